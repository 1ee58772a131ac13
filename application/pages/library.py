"""The library page: the user's projects and the upload box.

The upload box knows the plan's limits from the server before anything is sent: the largest
file and song, the uploads left today and the separation minutes left this month. When either
allowance is used up, it says so with the way up (the pricing page) and takes no file; the
upload API checks all of it again (402 ``quota_exceeded``).

It also offers the separation engines (:func:`separation_fields`, shared with the project page's
"Separate again" panel): every one offered, those this server lacks or the plan leaves out
disabled with the reason in the option's words, and the two-stem (karaoke) choice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from business.exceptions import upgrade_url
from business.models import UsageRecord
from business.quotas import moment_text, quota_refusal
from business.selectors import Meter, PlanLimits, plan_and_usage_for_user, plan_paid
from domain.selectors import project_list_for_user
from model.services import separation_choices, separation_engine_for

ACCEPT = ".mp3,.wav,.flac,.m4a,.aac,.ogg,audio/*"
#: Less than this many separation seconds left cannot separate any song (the meter counts whole minutes).
SEPARATION_SECONDS_MIN = 60


def upload_refusal(*, limits: PlanLimits, uploads: Meter, separation: Meter) -> str:
    """Why the plan takes no upload now (the upload API's own 402 where it has one), or ``""``."""
    if uploads.left <= 0:
        refusal = quota_refusal(metric=UsageRecord.Metric.UPLOADS, limits=limits, used=uploads.used, amount=1,
                                resets_at=uploads.resets_at)  # fmt: skip
        return refusal.message
    if separation.left < SEPARATION_SECONDS_MIN:
        return _(
            "The separation minutes of your %(plan)s plan are used for this month (%(limit)d minutes). "
            "They renew on %(when)s."
        ) % {"plan": limits.name, "limit": separation.limit // 60, "when": moment_text(separation.resets_at)}
    return ""


@dataclass(frozen=True, slots=True)
class SeparationOption:
    """One ``<option>`` of the separation select: its words say why when it cannot be chosen."""

    name: str
    text: str
    note: str
    available: bool
    selected: bool


def separation_fields(*, limits: PlanLimits, upgradable: bool, current: str = "") -> dict:
    """The separation select and its note, as ``projects/_separation_fields.html`` renders them.

    ``current`` (an engine name) is preselected when the user may pick it; else the engine a song is
    separated with when none is chosen. ``upgradable``: the plan is not paid, so an engine outside it
    that the paid plan has reads that plan's name ("Pro": the way up); any other reads "not in your
    plan".
    """
    choices = separation_choices(limits=limits)
    # The paid plan is read only when an engine here is outside this plan (one query, whatever the list).
    locked = upgradable and any(choice.installed and not choice.in_plan for choice in choices)
    paid = plan_paid() if locked else None
    upgrade_engines = set(paid.engines) if paid is not None else set()
    available = {choice.name for choice in choices if choice.available}
    chosen = current if current in available else separation_engine_for(limits=limits)
    options = []
    for choice in choices:
        if not choice.installed:
            text = _("%(engine)s — not installed on this server") % {"engine": choice.label}
        elif not choice.in_plan and choice.name in upgrade_engines:
            # Translators: an engine outside the user's plan, and the plan that has it ("Demucs — Pro").
            text = _("%(engine)s — %(plan)s") % {"engine": choice.label, "plan": paid.display_name}
        elif not choice.in_plan:
            text = _("%(engine)s — not in your plan") % {"engine": choice.label}
        else:
            text = choice.label
        options.append(
            SeparationOption(
                name=choice.name,
                text=text,
                note=choice.note,
                available=choice.available,
                selected=choice.name == chosen,
            )
        )
    note = next((option.note for option in options if option.selected), "")
    return {"separation_options": options, "separation_note": note}


def upload_box(*, user: AbstractBaseUser) -> dict:
    """What the upload box shows and its script reads: the plan's limits and what is left of them."""
    plan, meters = plan_and_usage_for_user(user=user)
    limits = PlanLimits.from_plan(plan)
    uploads, separation = meters["uploads"], meters["separation_s"]
    refusal = upload_refusal(limits=limits, uploads=uploads, separation=separation)
    return {
        "max_upload_mb": limits.max_upload_mb,
        "max_upload_bytes": limits.max_upload_bytes,
        "max_duration_min": round(limits.max_duration_s / 60),
        "uploads_left": uploads.left,
        "separation_seconds_left": separation.left,
        "separation_minutes_left": separation.left // 60,
        "upload_refusal": refusal,
        # A paid plan has nothing to upgrade to: its refusals say when the allowance renews.
        "upgrade_url": "" if plan.is_paid else upgrade_url(),
        "plan_name": plan.display_name,
        **separation_fields(limits=limits, upgradable=not plan.is_paid),
    }


@login_required
def library(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "projects/library.html",
        {
            "projects": project_list_for_user(user=request.user),
            "accept": ACCEPT,
            **upload_box(user=request.user),
        },
    )
