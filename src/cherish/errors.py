"""One exception hierarchy for cherish; the API and the CLI translate it into one error shape each."""

from __future__ import annotations

from typing import Any


class CherishError(Exception):
    """Base of every error cherish raises on purpose."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(CherishError):
    code = "invalid_input"
    status = 400


class PayloadTooLarge(InvalidInput):
    code = "payload_too_large"
    status = 413


class Unauthorized(CherishError):
    code = "unauthorized"
    status = 401


class Forbidden(CherishError):
    code = "forbidden"
    status = 403


class NotFound(CherishError):
    code = "not_found"
    status = 404


class Conflict(CherishError):
    code = "conflict"
    status = 409


class Gone(CherishError):
    """Something that existed and is closed for good: a survey link already answered, expired or closed."""

    code = "gone"
    status = 410


class TooManyAttempts(CherishError):
    """Too many failed attempts (logins): the caller may try again after ``retry_after`` seconds."""

    code = "too_many_attempts"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, details=[{"retry_after": retry_after}])
        self.retry_after = retry_after


class Unavailable(CherishError):
    """A part of the service is (re)starting: the request can be sent again (the SDKs retry a 5xx)."""

    code = "unavailable"
    status = 503


class EngineError(CherishError):
    code = "engine_error"
    status = 500
