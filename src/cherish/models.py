"""Imports every table so that metadata (and Alembic) sees the whole schema, and with the tables each domain's
part of the customer-row contract (`cherish.db.customer_rows`): how its customer-bound rows follow a merge, an
unmerge, an erasure and an export."""

from cherish.access.models import ApiKey, AuditRecord, InstanceSetting, LoginFailure, User
from cherish.analytics import customer_rows as _analytics_rows  # noqa: F401
from cherish.analytics.models import CustomerScore, MetricsSnapshot
from cherish.customers import customer_rows as _customers_rows  # noqa: F401
from cherish.customers.models import Consent, Customer, Note, Trait
from cherish.events import customer_rows as _events_rows  # noqa: F401
from cherish.events.models import Event, Order, OrderLine, RejectedEvent
from cherish.feedback import customer_rows as _feedback_rows  # noqa: F401
from cherish.feedback.models import Answer
from cherish.identity import customer_rows as _identity_rows  # noqa: F401
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
    "Answer", "ApiKey", "AuditRecord", "CustomerScore", "MetricsSnapshot", "Consent", "Customer", "Event", "Identifier",
    "IdentityReview", "InstanceSetting", "MatchModel", "MatchRun", "MatchRunMerge", "LoginFailure", "Merge",
    "NeverMerge", "Note", "Order", "OrderLine", "RejectedEvent", "Trait", "User",
]
