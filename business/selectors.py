"""What a user may do (the limits of their plan), and what their account holds.

Every user is on the Free plan until plans and subscriptions arrive; its limits are
settings, so an operator can change them without a release.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from business.models import Account


@dataclass(frozen=True)
class PlanLimits:
    name: str
    max_upload_bytes: int
    max_duration_s: float
    export_formats: tuple[str, ...]

    @property
    def max_upload_mb(self) -> int:
        return self.max_upload_bytes // 1_000_000


def plan_limits_for_user(*, user: AbstractBaseUser | None) -> PlanLimits:
    return PlanLimits(
        name="free",
        max_upload_bytes=settings.ISOMIX_MAX_UPLOAD_MB * 1_000_000,
        max_duration_s=float(settings.ISOMIX_MAX_DURATION_S),
        export_formats=tuple(settings.ISOMIX_EXPORT_FORMATS),
    )


def account_language_for_user(*, user: AbstractBaseUser) -> str:
    """The language the user saved (a code of ``settings.LANGUAGES``), or ``""`` to follow the
    browser: also when the user has no account row yet. One query, on the unique user id."""
    return Account.objects.filter(user_id=user.pk).values_list("language", flat=True).first() or ""
