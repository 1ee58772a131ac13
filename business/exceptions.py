"""The business app's errors: a limit of the plan reached, a feature outside it, billing off."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse

from domain.exceptions import ErrorCode, IsoMixError


def upgrade_url() -> str:
    """Where the pages and the API send a user who needs more than their plan: the pricing page."""
    return reverse("pricing")


class QuotaExceeded(IsoMixError):
    """An allowance of the plan is used up (until ``resets_at``): HTTP 402, final in a job."""

    status_code = 402

    def __init__(self, message: str, *, limit: int, used: int, resets_at: datetime | None, metric: str) -> None:
        super().__init__(
            message,
            code=ErrorCode.QUOTA_EXCEEDED,
            extra={
                "metric": metric,
                "limit": limit,
                "used": used,
                "resets_at": resets_at.isoformat() if resets_at is not None else None,
                "upgrade_url": upgrade_url(),
            },
        )


class PlanRequired(IsoMixError):
    """A feature the user's plan does not include (WAV export, a stems zip...): HTTP 402."""

    status_code = 402

    def __init__(self, message: str, *, extra: dict | None = None) -> None:
        super().__init__(message, code=ErrorCode.PLAN_REQUIRED, extra={**(extra or {}), "upgrade_url": upgrade_url()})


class BillingDisabled(IsoMixError):
    """This installation has no Stripe keys: plans are assigned by operators."""

    status_code = 503

    def __init__(self, message: str) -> None:
        super().__init__(message, code=ErrorCode.BILLING_DISABLED)


class BillingError(IsoMixError):
    """Stripe refused or could not be reached; nothing was changed here."""

    status_code = 502

    def __init__(self, message: str) -> None:
        super().__init__(message, code=ErrorCode.BILLING_ERROR)


class NoSubscription(IsoMixError):
    """The billing portal needs a Stripe customer, which a user who never subscribed lacks."""

    status_code = 409

    def __init__(self, message: str) -> None:
        super().__init__(message, code=ErrorCode.NO_SUBSCRIPTION)
