"""Choosing a separation: the engines a user may pick, checking a pick, and separating a song again.

An engine is offered when this installation has it (the offline separator always; a Demucs model
when its weights are on disk, see :mod:`model.engines.demucs_engine`) and the user's plan includes it
(``Plan.engines``; the offline separator is in every plan). A pick outside that is refused before
anything is stored: an unknown name is a field error (400), an engine this server does not have
``engine_unavailable`` (400, with the ones it has), one the plan lacks ``plan_required`` (402).

A two-stem separation gives vocals and an instrumental (everything else), for karaoke: it costs the
song's minutes twice instead of once per stem of the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from business.exceptions import PlanRequired
from business.models import UsageRecord
from business.quotas import quota_reserve
from business.selectors import PlanLimits, plan_limits_for_user
from domain.exceptions import ErrorCode, IsoMixError, NotReady
from domain.models import ENGINE_MODELS, ENGINE_NOTES, MODEL_LABELS, Job, Project
from domain.services import job_create

#: The engines a user can choose among, best last (the test model only where the setting offers it).
USER_ENGINES = ("offline", "htdemucs", "htdemucs_ft", "htdemucs_6s")
TEST_ENGINE = "demucs_unittest"


class EngineNotInstalled(IsoMixError):
    """The engine asked for is not installed on this server (its weights are missing): HTTP 400."""

    def __init__(self, message: str, *, extra: dict | None = None) -> None:
        super().__init__(message, code=ErrorCode.ENGINE_UNAVAILABLE, extra=extra)


@dataclass(frozen=True, slots=True)
class SeparationChoice:
    """One engine as a user sees it where they choose."""

    name: str
    label: str
    note: str
    stems: int
    installed: bool
    in_plan: bool

    @property
    def available(self) -> bool:
        return self.installed and self.in_plan


def engines_offered() -> tuple[str, ...]:
    """Every engine name a user may ask for (available or not)."""
    return USER_ENGINES + ((TEST_ENGINE,) if settings.ISOMIX_SEPARATION_TEST_MODEL else ())


def engine_installed(name: str) -> bool:
    """Whether this server can run ``name`` now (a cheap file lookup; nothing is downloaded)."""
    if name == "offline":
        return True
    from model.engines.demucs_engine import demucs_weights_available

    return demucs_weights_available(name, model_dir=settings.ISOMIX_DEMUCS_MODEL_DIR)


def engine_stem_count(engine: str, *, two_stems: bool = False) -> int:
    """How many stems ``engine`` makes (the separation minutes are metered per stem)."""
    if two_stems:
        return 2
    return 6 if engine == "htdemucs_6s" else 4


def engine_words(name: str) -> str:
    """An engine's name in plain words."""
    return str(MODEL_LABELS[ENGINE_MODELS[name]])


def separation_choices(*, limits: PlanLimits) -> list[SeparationChoice]:
    """The engines offered, each with whether this server has it and the plan includes it."""
    return [
        SeparationChoice(
            name=name,
            label=engine_words(name),
            note=str(ENGINE_NOTES[name]),
            stems=engine_stem_count(name),
            installed=engine_installed(name),
            in_plan=name == "offline" or name in limits.engines,
        )
        for name in engines_offered()
    ]


def separation_engine_for(*, limits: PlanLimits) -> str:
    """The engine a song of this plan is separated with when its owner does not choose: the
    installation's (``auto``: Demucs when its weights are here), or, when the plan does not include
    that one, the best four-stem engine the plan has here."""
    from model.engines import resolve_engine_name

    setting = settings.ISOMIX_SEPARATION_ENGINE
    chosen = resolve_engine_name(setting, model_dir=settings.ISOMIX_DEMUCS_MODEL_DIR)
    if setting != "auto" and (chosen in limits.engines or chosen == "offline"):
        return chosen
    for name in ("htdemucs_ft", "htdemucs"):
        if name in limits.engines and engine_installed(name):
            return name
    return "offline"


def separation_engine_pick(*, limits: PlanLimits, engine: str = "") -> str:
    """The engine to separate with: ``engine`` when the user may have it, else the default for an
    empty pick. Raises ``EngineNotInstalled`` (400) or ``PlanRequired`` (402) for one they may not."""
    if not engine or engine == "auto":
        return separation_engine_for(limits=limits)
    if engine not in engines_offered():
        raise IsoMixError(
            _("“%(engine)s” is not a separation engine.") % {"engine": engine[:64]},
            code=ErrorCode.INVALID_INPUT,
            extra={"fields": {"engine": [_("Choose one of the engines offered.")]}},
        )
    if not engine_installed(engine):
        here = [name for name in engines_offered() if engine_installed(name)]
        raise EngineNotInstalled(
            _("%(engine)s is not installed on this server. It has: %(here)s.")
            % {"engine": engine_words(engine), "here": ", ".join(engine_words(name) for name in here)},
            extra={"engine": engine, "installed": here},
        )
    if engine != "offline" and engine not in limits.engines:
        raise PlanRequired(
            _("%(engine)s is not part of your %(plan)s plan.") % {"engine": engine_words(engine), "plan": limits.name},
            extra={"engine": engine, "engines": ["offline", *[e for e in limits.engines if e != "offline"]]},
        )
    return engine


def separation_again(*, user: AbstractBaseUser, project: Project, engine: str = "", two_stems: bool = False) -> Job:
    """Separate a song again, with another engine or into two stems.

    The song keeps its stems (and stays playable) until the new ones are ready; if the new
    separation fails, the old ones stay. One separation of a song at a time: another one queued or
    running is a ``NotReady`` (409, ``job_conflict``). The song's minutes are reserved as for an upload.
    """
    from model.services import _enqueue_on_commit

    limits = plan_limits_for_user(user=user)
    chosen = separation_engine_pick(limits=limits, engine=engine)
    seconds = math.ceil(project.duration_s) * engine_stem_count(chosen, two_stems=two_stems)
    with transaction.atomic():
        reservation = quota_reserve(user=user, amounts={UsageRecord.Metric.SEPARATION_SECONDS: seconds})
        locked = Project.objects.select_for_update().filter(id=project.id).first()
        if locked is None or locked.status not in (Project.Status.READY, Project.Status.FAILED):
            raise NotReady(
                _("This song is still being separated. Wait for it to finish, then try again."),
                code=ErrorCode.JOB_CONFLICT,
            )
        # Read under the lock: of two requests at once, the second sees the first one's job.
        running = Job.objects.filter(project=locked, kind=Job.Kind.SEPARATE).exclude(state__in=Job.FINISHED)
        if running.exists():
            raise NotReady(
                _("This song is already being separated again. Wait for it to finish."),
                code=ErrorCode.JOB_CONFLICT,
            )
        job = job_create(
            project=locked,
            kind=Job.Kind.SEPARATE,
            engine=chosen,
            priority=reservation.limits.priority,
            params={"two_stems": two_stems, "again": True},
        )
        reservation.attach(job_id=job.id)
        _enqueue_on_commit(job)
    return job
