"""Key management routes (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from cherish.access import service
from cherish.access.guard import RowId, require
from cherish.access.service import Principal

router = APIRouter(prefix="/api/keys", tags=["access"])


class KeyCreate(BaseModel):
    role: Literal["write", "viewer", "agent", "manager", "admin"] = Field(examples=["viewer"])
    name: str | None = Field(None, max_length=200, pattern=r"^[^\x00]*$", description="A name to recognise it by.")


class KeyRead(BaseModel):
    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@router.get("", response_model=list[KeyRead])
def list_keys(request: Request, _: Principal = Depends(require("admin"))) -> Any:
    with request.app.state.store.read() as session:
        return [KeyRead.model_validate(k, from_attributes=True) for k in service.list_keys(session)]


@router.post("", status_code=201, summary="Create a key; its secret is shown once")
def create_key(request: Request, body: KeyCreate, principal: Principal = Depends(require("admin"))) -> Any:
    with request.app.state.store.write() as session:
        key, secret = service.create_key(session, role=body.role, name=body.name)
        service.audit(session, actor=principal.label, action="key_create", subject=str(key.id),
                      details={"role": key.role})
        return {**KeyRead.model_validate(key, from_attributes=True).model_dump(), "key": secret}


@router.delete("/{key_id}", response_model=KeyRead)
def revoke_key(request: Request, key_id: RowId, principal: Principal = Depends(require("admin"))) -> Any:
    with request.app.state.store.write() as session:
        key = service.revoke_key(session, key_id=key_id)
        service.audit(session, actor=principal.label, action="key_revoke", subject=str(key.id))
        return KeyRead.model_validate(key, from_attributes=True)
