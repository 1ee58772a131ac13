"""Starting the karaoke work: a song's analysis and its lyrics, and the user's lyric edits.

Both follow a separation by themselves (:func:`karaoke_start`); a user starts the lyrics again
with their own text to align (:func:`lyrics_start`). Lyrics count against the plan's karaoke
allowance, reserved with the job and given back if it fails.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from business.exceptions import QuotaExceeded
from business.models import UsageRecord
from business.quotas import quota_reserve
from business.selectors import plan_limits_for_user
from domain.exceptions import ErrorCode, InvalidLyrics, NotReady
from domain.lyrics import LyricsDoc, lyrics_text_parse
from domain.models import Job, Lyrics, Project
from domain.selectors import analysis_for_project, lyrics_for_project
from domain.services import LYRICS_LANGUAGES, job_create, lyrics_save

logger = logging.getLogger(__name__)


def _enqueue(job: Job) -> None:
    from model.services import _enqueue_on_commit

    _enqueue_on_commit(job)


def karaoke_start(*, project: Project, only_missing: bool = False) -> None:
    """What follows a finished separation: the analysis always, the lyrics while the plan allows.

    A plan whose karaoke allowance is used up gets no transcription (the page offers the user's
    own text, which then says why it cannot start); the stems are ready either way. After a song
    is separated again (``only_missing``), what it has already is kept: its analysis, and its
    lyrics with the user's edits (a new transcription would cost an allowance and undo them).
    """
    priority = plan_limits_for_user(user=project.owner).priority
    if not (only_missing and analysis_for_project(project=project) is not None):
        with transaction.atomic():
            job = job_create(project=project, kind=Job.Kind.ANALYSE, priority=priority)
            _enqueue(job)
    if not settings.ISOMIX_LYRICS_AUTO or (only_missing and lyrics_for_project(project=project) is not None):
        return
    try:
        lyrics_start(project=project, user=project.owner)
    except QuotaExceeded as exc:
        logger.info("project %s: no transcription, the karaoke allowance is used up (%s)", project.id, exc.message)


def analysis_start(*, project: Project) -> Job:
    """Analyse the song again (an operator's re-run)."""
    _ready_check(project)
    priority = plan_limits_for_user(user=project.owner).priority
    with transaction.atomic():
        job = job_create(project=project, kind=Job.Kind.ANALYSE, priority=priority)
        _enqueue(job)
    return job


def lyrics_start(
    *, project: Project, user: AbstractBaseUser, text: str = "", language: str = "", filename: str = ""
) -> Job:
    """Queue the lyrics job: the user's ``text`` aligned to the vocals, or (no text) a transcription.

    The text is checked here, before anything is reserved (``InvalidLyrics``); one lyrics job of
    the plan's karaoke allowance is reserved with the job (``QuotaExceeded``, 402).
    """
    _ready_check(project)
    if language and language not in LYRICS_LANGUAGES:
        message = _("Choose the song's language from the list, or leave it to be detected.")
        raise InvalidLyrics(message, field="language")
    if text:
        lyrics_text_parse(text=text, filename=filename)  # refuse bad text now, not in the job
    params: dict[str, Any] = {"text": text, "language": language, "filename": filename[:255]}
    with transaction.atomic():
        reservation = quota_reserve(user=user, amounts={UsageRecord.Metric.LYRICS: 1}, job_slot=False)
        job = job_create(project=project, kind=Job.Kind.LYRICS, priority=reservation.limits.priority, params=params)
        reservation.attach(job_id=job.id)
        _enqueue(job)
    return job


def lyrics_edit(*, project: Project, lines: Any, version: int | None, language: str | None = None) -> Lyrics:
    """Save the user's edit of the lyrics as a new version (``LyricsConflict`` when it is stale)."""
    current = Lyrics.objects.filter(project=project).first()
    if language is not None and language and language not in LYRICS_LANGUAGES:
        raise InvalidLyrics(_("Choose the song's language from the list."), field="language")
    doc = LyricsDoc.from_json(lines, duration_s=project.duration_s)
    return lyrics_save(
        project=project,
        doc=doc,
        source=Lyrics.Source.EDITED,
        language=language if language is not None else (current.language if current else ""),
        from_version=version,
    )


def _ready_check(project: Project) -> None:
    if project.status != Project.Status.READY:
        raise NotReady(_("The stems of this song are not ready yet."), code=ErrorCode.NOT_READY)
