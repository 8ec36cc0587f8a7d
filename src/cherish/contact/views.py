"""The contact policy as it stands (managers read it) and changed (admins): consent defaults, caps, quiet hours and
the suppression rules. What is set here overrides the ``CHERISH_*`` settings field by field; ``null`` follows the
setting again."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from cherish.access.guard import require
from cherish.access.service import Principal, audit
from cherish.contact import policy_settings
from cherish.contact.service import set_rule_enabled, suppression_rules

router = APIRouter(tags=["contact policy"])

Cap = Annotated[str, StringConstraints(pattern=r"^\s*[0-9]{1,6}\s*/\s*[1-9][0-9]{0,3}\s*d\s*$")]
_HOUR = r"\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*"
ConsentPurpose = Literal["service", "feedback", "marketing"]


def _not_a_switch(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a number of days, not true or false")
    return value


class SuppressionRuleOut(BaseModel):
    name: str
    condition: str
    days: int | None
    enabled: bool
    description: str | None


class ContactPolicy(BaseModel):
    consent_defaults: dict[str, str] = Field(description="Consent assumed per purpose for a customer who never said.")
    contact_caps: list[str] = Field(description="Most messages over rolling windows, every channel together.")
    contact_channel_caps: dict[str, list[str]] = Field(description="Caps per channel besides.")
    quiet_hours: str = Field(description="Hours in the customer's time zone when only service messages go out.")
    survey_fatigue_days: int = Field(description="No survey within this many days of the last one sent (0: none).")
    set_here: list[str] = Field(description="The fields set on the dashboard or through the API; the others follow "
                                            "their CHERISH_* setting.")
    suppression_rules: list[SuppressionRuleOut]


class ContactPolicyChange(BaseModel):
    """The fields to change; a field left out stays as it is, ``null`` follows its ``CHERISH_*`` setting again."""

    model_config = {"extra": "forbid"}

    consent_defaults: dict[ConsentPurpose, Literal["granted", "denied"]] | None = Field(
        None, examples=[{"feedback": "granted", "marketing": "denied"}])
    contact_caps: list[Cap] | None = Field(None, max_length=10, examples=[["2/7d", "6/30d"]])
    contact_channel_caps: dict[Literal["email", "sms", "app"], Annotated[list[Cap], Field(max_length=10)]] | None = \
        Field(None, examples=[{"sms": ["1/7d"]}])
    quiet_hours: Annotated[str, StringConstraints(pattern=rf"^({_HOUR}-{_HOUR})?$")] | None = Field(
        None, examples=["21:00-08:00"], description="HH:MM-HH:MM; empty: none.")
    survey_fatigue_days: Annotated[int, BeforeValidator(_not_a_switch)] | None = Field(None, ge=0, le=365,
                                                                                      examples=[30])
    suppression_rules: dict[str, bool] | None = Field(
        None, examples=[{"after-unsubscribe": True}], description="Turn suppression rules on or off, by name.")


def policy_of(session: Any, settings: Any) -> dict[str, Any]:
    in_force = policy_settings.in_force(session, settings)
    return {name: getattr(in_force, name) for name in policy_settings.FIELDS} | {
        "set_here": sorted(policy_settings.set_here(session)),
        "suppression_rules": [{"name": r.name, "condition": r.condition, "days": r.days, "enabled": r.enabled,
                               "description": r.description} for r in suppression_rules(session)]}


@router.get("/api/contact-policy", response_model=ContactPolicy)
def read_policy(request: Request, principal: Principal = Depends(require("manager"))) -> dict[str, Any]:
    """The contact policy in force."""
    with request.app.state.store.write() as session:  # (the built-in suppression rules are stored on first sight)
        return policy_of(session, request.app.state.settings)


@router.put("/api/contact-policy", response_model=ContactPolicy)
def change_policy(request: Request, change: ContactPolicyChange,
                  principal: Principal = Depends(require("admin"))) -> dict[str, Any]:
    """Change the contact policy: every value is checked, and nothing is kept when one is wrong."""
    settings = request.app.state.settings
    with request.app.state.store.write() as session:
        return apply_change(session, settings, principal, change.model_dump(exclude_unset=True))


def apply_change(session: Any, settings: Any, principal: Principal, changes: dict[str, Any]) -> dict[str, Any]:
    """Change the policy's fields and suppression rules in one transaction, audited; the policy afterwards."""
    switches = changes.pop("suppression_rules", None) or {}
    policy_settings.change(session, settings, changes)
    for name, enabled in switches.items():
        set_rule_enabled(session, name, enabled)
    audit(session, actor=principal.label, action="contact_policy_change", subject=None,
          details={"fields": sorted(changes), "suppression_rules": switches})
    return policy_of(session, settings)
