"""What a user may do: the limits of their plan.

Every user is on the Free plan until plans and subscriptions arrive; its limits are
settings, so an operator can change them without a release.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser


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
