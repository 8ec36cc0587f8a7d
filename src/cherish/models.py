"""Imports every table so that metadata (and Alembic) sees the whole schema."""

from cherish.access.models import ApiKey, AuditRecord, InstanceSetting, LoginFailure, User
from cherish.analytics.models import CustomerScore, MetricsSnapshot
from cherish.customers.models import Consent, Customer, Note, Trait
from cherish.events.models import Event, Order, OrderLine, RejectedEvent
from cherish.feedback.models import Answer
from cherish.identity.models import (
    Identifier,
    IdentityReview,
    MatchModel,
    MatchRun,
    MatchRunMerge,
    Merge,
    NeverMerge,
)

__all__ = [
    "Answer", "ApiKey", "AuditRecord", "CustomerScore", "MetricsSnapshot", "Consent", "Customer", "Event", "Identifier", "IdentityReview", "InstanceSetting",
    "MatchModel", "MatchRun", "MatchRunMerge", "LoginFailure", "Merge", "NeverMerge", "Note", "Order", "OrderLine", "RejectedEvent", "Trait", "User",
]
