"""Imports every table so that metadata (and Alembic) sees the whole schema, and with the tables each domain's
part of the customer-row contract (`cherish.db.customer_rows`): how its customer-bound rows follow a merge, an
unmerge, an erasure and an export."""

from cherish.access.models import ApiKey, AuditRecord, InstanceSetting, LoginFailure, User
from cherish.analytics import customer_rows as _analytics_rows  # noqa: F401
from cherish.analytics.models import CustomerScore, MetricsSnapshot
from cherish.cases import customer_rows as _cases_rows  # noqa: F401
from cherish.cases.models import (
    Agent,
    Case,
    CaseActivity,
    CaseRule,
    Incident,
    IncidentCustomer,
    Promise,
    SlaPolicy,
    Team,
)
from cherish.contact import customer_rows as _contact_rows  # noqa: F401
from cherish.contact.models import Contact, Hold, SuppressionRule
from cherish.customers import customer_rows as _customers_rows  # noqa: F401
from cherish.customers.models import Consent, Customer, Note, Trait
from cherish.domain_events import customer_rows as _domain_events_rows  # noqa: F401
from cherish.domain_events.models import ConsumerPosition, DomainEvent
from cherish.events import customer_rows as _events_rows  # noqa: F401
from cherish.events.models import Event, Order, OrderLine, RejectedEvent
from cherish.feedback import customer_rows as _feedback_rows  # noqa: F401
from cherish.feedback.models import Answer, CommentAnalysis
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
from cherish.outbox import customer_rows as _outbox_rows  # noqa: F401
from cherish.outbox.models import DeliveryAttempt, OutboxMessage, WebhookEndpoint
from cherish.surveys import customer_rows as _surveys_rows  # noqa: F401
from cherish.surveys.models import Invitation, RewardCode, Survey, SurveyVersion
from cherish.worker.models import Job

__all__ = [
    "Agent", "Answer", "ApiKey", "AuditRecord", "Case", "CaseActivity", "CaseRule", "CommentAnalysis", "Consent",
    "ConsumerPosition", "Contact", "Customer", "CustomerScore", "DeliveryAttempt", "DomainEvent", "Event", "Hold",
    "Identifier", "IdentityReview", "Incident", "IncidentCustomer", "InstanceSetting", "Invitation", "Job",
    "LoginFailure", "MatchModel", "MatchRun", "MatchRunMerge", "Merge", "MetricsSnapshot", "NeverMerge", "Note",
    "Order", "OrderLine", "OutboxMessage", "Promise", "RejectedEvent", "RewardCode", "SlaPolicy", "SuppressionRule",
    "Survey", "SurveyVersion", "Team", "Trait", "User", "WebhookEndpoint",
]
