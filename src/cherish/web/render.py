"""How every dashboard page renders: the shared layout's templates, their filters, the signed-in person."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from cherish.access.guard import csrf_token
from cherish.access.service import Principal
from cherish.web import formatting

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)
formatting.register(templates.env)


def render_page(request: Request, name: str, principal: Principal | None, **context: Any) -> HTMLResponse:
    """A dashboard page in the shared layout: every domain's pages render through this (the signed-in person and
    the form token come with every template)."""
    return templates.TemplateResponse(
        request, name, {"principal": principal, "csrf": csrf_token(request), **context}
    )
