"""Reads, always scoped to the user asking: what they may not see does not exist."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from domain.mix import MixSettings
from domain.models import (
    Analysis,
    Export,
    Job,
    Lyrics,
    LyricsVersion,
    MixPreset,
    MixState,
    Project,
    Remix,
    RemixStem,
    Stem,
    StemKind,
    StyleSound,
    WorkerBeat,
)
from domain.remix import REVOICED_KINDS

logger = logging.getLogger(__name__)


def project_list_for_user(*, user: AbstractBaseUser) -> QuerySet[Project]:
    return Project.objects.filter(owner=user).order_by("-created_at")


def project_get_for_user(*, user: AbstractBaseUser, project_id: UUID | str) -> Project:
    """The user's project with its stems and jobs, or 404."""
    project = (
        Project.objects.filter(owner=user, id=project_id)
        .prefetch_related(
            # The peaks (hundreds of kB of JSON per stem) only for the peaks endpoint.
            Prefetch("stems", queryset=Stem.objects.defer("peaks").order_by("kind")),
            Prefetch("jobs", queryset=Job.objects.order_by("created_at")),
        )
        .first()
    )
    if project is None:
        raise Http404("No such project.")
    return project


def stem_get_for_user(*, user: AbstractBaseUser, project_id: UUID | str, kind: str) -> Stem:
    if kind not in StemKind.values:  # never sent to the database: PostgreSQL refuses a NUL in text
        raise Http404("No such stem.")
    stem = Stem.objects.filter(project__owner=user, project_id=project_id, kind=kind).first()
    if stem is None:
        raise Http404("No such stem.")
    return stem


def export_get_for_user(*, user: AbstractBaseUser, export_id: UUID | str) -> Export:
    export = Export.objects.select_related("job", "project").filter(project__owner=user, id=export_id).first()
    if export is None:
        raise Http404("No such export.")
    return export


def stems_ordered(project: Project) -> list[Stem]:
    return sorted(project.stems.all(), key=lambda s: s.order)


@dataclass(frozen=True)
class SavedMix:
    """The project's mixer: as saved (``updated_at`` set) or every fader at rest (``None``)."""

    settings: MixSettings
    updated_at: datetime | None


def mixer_kinds(*, project: Project) -> list[str]:
    """The mixer's strips of ``project``: its stems in display order, then the re-voiced stems of
    its newest finished remix (``remix_drums``, ...)."""
    kinds = [s.kind for s in stems_ordered(project)]
    remix = remix_latest_done(project=project)
    if remix is not None:
        kinds += [t.track for t in remix.tracks.all()]
    return kinds


def mix_state_get(*, project: Project) -> SavedMix:
    """The saved mixer of ``project`` (one strip per stem it has, in display order), or the defaults."""
    kinds = mixer_kinds(project=project)
    state = MixState.objects.filter(project=project).first()
    if state is not None:
        try:
            saved = MixSettings.from_json(state.settings).for_kinds(kinds)
            return SavedMix(settings=saved, updated_at=state.updated_at)
        except (ValueError, TypeError, KeyError, AttributeError):
            # Saved under other ranges (or edited by hand): the page starts afresh rather than fail.
            logger.warning("saved mix of project %s is not valid any more; using the defaults", project.id)
    return SavedMix(settings=MixSettings().for_kinds(kinds), updated_at=None)


def mix_presets_for_project(*, project: Project) -> QuerySet[MixPreset]:
    """The project's named presets, the newest (last saved) first."""
    return MixPreset.objects.filter(project=project).order_by("-updated_at", "-created_at")


def mix_preset_get_for_user(*, user: AbstractBaseUser, preset_id: UUID | str) -> MixPreset:
    """The user's preset (of one of their projects), or 404."""
    preset = MixPreset.objects.select_related("project").filter(project__owner=user, id=preset_id).first()
    if preset is None:
        raise Http404("No such preset.")
    return preset


def project_with_stems_by_sha(
    *, owner: AbstractBaseUser, sha256: str, engine: str, model_name: str, two_stems: bool, exclude_id: UUID
) -> Project | None:
    """A ready project of ``owner``'s holding the same audio separated by the same engine and model
    into the same stems (two: vocals and instrumental; or all the engine makes), if any.

    Only the owner's own projects: reuse across users would tell one user, by a stage and a
    time no separation can have, that somebody else holds this exact file.
    """
    found = Project.objects.filter(
        owner=owner, sha256=sha256, engine=engine, model_name=model_name, status=Project.Status.READY
    ).exclude(id=exclude_id)
    instrumental = Stem.objects.filter(project=OuterRef("pk"), kind=StemKind.INSTRUMENTAL)
    found = found.filter(Exists(instrumental)) if two_stems else found.exclude(Exists(instrumental))
    return found.prefetch_related("stems").order_by("created_at").first()


def workers_seen_recently(*, within_s: float = 60.0) -> list[WorkerBeat]:
    return list(WorkerBeat.objects.filter(seen_at__gte=timezone.now() - timedelta(seconds=within_s)).order_by("name"))


@dataclass(frozen=True)
class StepState:
    """Where one kind of a project's work stands: its newest job's state, or ``none``."""

    status: str  # none | queued | running | done | failed | cancelled
    progress: int = 0
    stage: str = ""
    error: str = ""

    @classmethod
    def of(cls, job: Job | None) -> StepState:
        if job is None:
            return cls(status="none")
        return cls(status=job.state, progress=job.progress, stage=job.stage, error=job.user_error)


def job_latest(*, project: Project, kind: str) -> Job | None:
    """The project's newest job of ``kind`` (the project's jobs prefetched are used when there)."""
    jobs = [job for job in project.jobs.all() if job.kind == kind]
    return max(jobs, key=lambda job: job.created_at) if jobs else None


def analysis_for_project(*, project: Project) -> Analysis | None:
    return Analysis.objects.filter(project=project).first()


def lyrics_for_project(*, project: Project) -> Lyrics | None:
    # The list of versions without their lines: each holds a whole copy of the song's words.
    versions = Prefetch("versions", queryset=LyricsVersion.objects.only("lyrics_id", "number", "source", "created_at"))
    return Lyrics.objects.filter(project=project).prefetch_related(versions).first()


def lyrics_version_get(*, lyrics: Lyrics, number: int) -> LyricsVersion:
    """One version of the lyrics, or 404."""
    version = LyricsVersion.objects.filter(lyrics=lyrics, number=number).first()
    if version is None:
        raise Http404("No such version.")
    return version


# ---------------------------------------------------------------- granular remix


def styles_for_user(*, user: AbstractBaseUser) -> QuerySet[StyleSound]:
    """The user's style sounds, newest first (their grain plots deferred: only the detail shows one)."""
    return (
        StyleSound.objects.filter(owner=user)
        .defer("scatter")
        .prefetch_related(Prefetch("jobs", queryset=Job.objects.order_by("created_at")))
    )


def style_get_for_user(*, user: AbstractBaseUser, style_id: UUID | str) -> StyleSound:
    style = (
        StyleSound.objects.filter(owner=user, id=style_id)
        .prefetch_related(Prefetch("jobs", queryset=Job.objects.order_by("created_at")))
        .first()
    )
    if style is None:
        raise Http404("No such style sound.")
    return style


def style_job(style: StyleSound) -> Job | None:
    """The sound's newest grain-library job (its jobs prefetched oldest first)."""
    jobs = list(style.jobs.all())
    return jobs[-1] if jobs else None


def styles_ready_by_id(*, user: AbstractBaseUser, ids: list[str]) -> dict[str, StyleSound]:
    """The user's ready sounds among ``ids`` (strings of UUIDs), by id; others are left out."""
    found = StyleSound.objects.filter(owner=user, id__in=ids, status=StyleSound.Status.READY).defer("scatter")
    return {str(style.id): style for style in found}


def _remixes() -> QuerySet[Remix]:
    return Remix.objects.select_related("job", "project").prefetch_related(
        Prefetch("tracks", queryset=RemixStem.objects.defer("peaks").order_by("id"))
    )


def remixes_for_project(*, project: Project) -> QuerySet[Remix]:
    """The song's remixes, newest first."""
    return _remixes().filter(project=project).order_by("-created_at")


def remix_get_for_user(*, user: AbstractBaseUser, remix_id: UUID | str) -> Remix:
    remix = _remixes().filter(project__owner=user, id=remix_id).first()
    if remix is None:
        raise Http404("No such remix.")
    return remix


def remix_latest_done(*, project: Project) -> Remix | None:
    """The newest finished remix of the song: its re-voiced stems are the mixer's, beside the song's."""
    return remixes_for_project(project=project).filter(job__state=Job.State.DONE).exclude(file_key="").first()


def remix_stem_get_for_user(*, user: AbstractBaseUser, remix_id: UUID | str, kind: str) -> RemixStem:
    if kind not in REVOICED_KINDS:  # never sent to the database (see stem_get_for_user)
        raise Http404("No such stem.")
    stem = (
        RemixStem.objects.select_related("remix__project")
        .filter(remix__project__owner=user, remix_id=remix_id, kind=kind)
        .first()
    )
    if stem is None:
        raise Http404("No such stem.")
    return stem
