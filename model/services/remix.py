"""Starting the granular remix's work: style sounds that become grain libraries, and remixes.

A style upload is all or nothing: every file is checked by its content before any is stored,
and one bad file refuses the request (naming it) with nothing left behind. A grain-library job
per sound runs on the cpu queue; it takes no slot of the plan's jobs at once (a 20-sound upload
is one user action, and each job takes well under a second per sound). A remix is one job,
reserved against the plan's remixes of the month and its jobs at once.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from business.models import UsageRecord
from business.quotas import quota_release, quota_reserve
from business.selectors import plan_limits_for_user
from domain.exceptions import ErrorCode, IsoMixError, NotReady
from domain.models import Job, Project, Remix, StyleSound
from domain.remix import (
    STYLE_FILES_MAX,
    STYLE_MAX_BYTES,
    STYLE_MAX_DURATION_S,
    STYLES_PER_USER_MAX,
    plain_number,
    remix_stems_from_json,
    remix_stems_to_json,
)
from domain.selectors import mixer_kinds, styles_ready_by_id
from domain.services import (
    job_create,
    remix_create,
    remix_delete,
    storage_delete_now,
    style_store,
    styles_record,
    upload_inspect,
)
from domain.services.remix import style_limit_error

if TYPE_CHECKING:
    from model.pipelines.remix.settings import RemixSettings


def _enqueue(job: Job) -> None:
    from model.services import _enqueue_on_commit

    _enqueue_on_commit(job)


def style_limits_for(*, user: AbstractBaseUser) -> tuple[int, float]:
    """The largest and longest style sound the user may upload: the house limits, or the plan's
    where those are smaller."""
    limits = plan_limits_for_user(user=user)
    return min(STYLE_MAX_BYTES, limits.max_upload_bytes), min(STYLE_MAX_DURATION_S, limits.max_duration_s)


def _name_file(exc: IsoMixError, *, index: int, name: str) -> None:
    # The same error, saying which of the files it is about (the page shows it beside that file).
    label = name or _("file %(n)d") % {"n": index + 1}
    exc.message = _("%(file)s: %(error)s") % {"file": label, "error": exc.message}
    exc.args = (exc.message,)
    exc.extra = {**exc.extra, "file": name, "index": index}


def styles_upload(*, owner: AbstractBaseUser, uploads: list[UploadedFile]) -> list[StyleSound]:
    """Check every file, then store them all as style sounds and queue a grain-library job each.

    Raises an ``IsoMixError`` naming the first bad file (``extra.file``, ``extra.index``), or
    ``style_limit`` past the files of a request or the sounds a user keeps; nothing is stored.
    """
    if not uploads:
        raise IsoMixError(_("Choose at least one sound file."), code=ErrorCode.INVALID_INPUT)
    if len(uploads) > STYLE_FILES_MAX:
        raise IsoMixError(
            _("Upload at most %(max)d sounds at a time.") % {"max": STYLE_FILES_MAX},
            code=ErrorCode.STYLE_LIMIT,
            extra={"max_files": STYLE_FILES_MAX},
        )
    kept = StyleSound.objects.filter(owner=owner).count()
    if kept + len(uploads) > STYLES_PER_USER_MAX:  # before any file is read (checked again under a lock)
        raise style_limit_error(max_kept=STYLES_PER_USER_MAX, kept=kept)
    max_bytes, max_duration_s = style_limits_for(user=owner)
    styles: list[StyleSound] = []
    with ExitStack() as stack:
        inspected = []
        for index, upload in enumerate(uploads):
            try:
                inspected.append(
                    stack.enter_context(
                        upload_inspect(upload=upload, max_bytes=max_bytes, max_duration_s=max_duration_s)
                    )
                )
            except IsoMixError as exc:
                _name_file(exc, index=index, name=(upload.name or "")[:255])
                raise
        try:
            # The files first, outside the transaction (20 copies to S3 must not hold the user's lock),
            # then the rows and their jobs in one short transaction.
            for upload, facts in zip(uploads, inspected, strict=True):
                styles.append(style_store(owner=owner, inspected=facts, original_filename=upload.name or ""))
            with transaction.atomic():
                styles_record(owner=owner, styles=styles, max_kept=STYLES_PER_USER_MAX)
                for style in styles:
                    _enqueue(job_create(style=style, kind=Job.Kind.STYLE))
        except BaseException:
            storage_delete_now([s.file_key for s in styles])
            raise
    return styles


def remix_start(*, project: Project, user: AbstractBaseUser, stems: Any, settings: Any) -> Remix:
    """Check a remix request against the song and the user's sounds, and queue it.

    Raises ``IsoMixError`` (``invalid_input``, naming the field) for a malformed request or a style
    sound the user has not got (ready), ``NotReady`` before the song's stems exist, and
    ``QuotaExceeded`` (402) past the plan's remixes of the month or its jobs at once.
    """
    if project.status != Project.Status.READY:
        raise NotReady(_("The stems of this song are not ready yet."), code=ErrorCode.NOT_READY)
    kinds = [k for k in mixer_kinds(project=project) if not k.startswith("remix_")]
    configs = remix_stems_from_json(stems, kinds=kinds)
    remix_settings = _remix_settings(settings if settings is not None else {})
    wanted = sorted({c.style for c in configs.values() if c.revoiced})
    found = styles_ready_by_id(user=user, ids=wanted)
    missing = [style_id for style_id in wanted if style_id not in found]
    if missing:
        raise IsoMixError(
            _("Choose one of your ready style sounds for each stem to re-voice."),
            code=ErrorCode.STYLE_NOT_READY,
            extra={"styles": missing},
        )
    with transaction.atomic():
        reservation = quota_reserve(user=user, amounts={UsageRecord.Metric.REMIXES: 1})
        job = job_create(project=project, kind=Job.Kind.REMIX, priority=reservation.limits.priority)
        reservation.attach(job_id=job.id)
        remix = remix_create(
            project=project, job=job, stems=remix_stems_to_json(configs), settings=remix_settings.to_json()
        )
        _enqueue(job)
    return remix


def _remix_settings(data: Any) -> RemixSettings:
    """The request's ``settings``, or an ``invalid_input`` naming the field, in the user's words."""
    from model.pipelines.remix.settings import RANGES, RemixSettings, SettingsError  # noqa: F811

    try:
        return RemixSettings.from_json(data)
    except SettingsError as exc:
        field = f"settings.{exc.field}" if exc.field != "settings" else "settings"
        if exc.field == "settings":
            message = _("settings is an object of named remix settings.")
        elif exc.field in RANGES:
            low, high = RANGES[exc.field]
            message = _("%(field)s takes a number from %(low)s to %(high)s.") % {
                "field": field,
                "low": plain_number(low),
                "high": plain_number(high),
            }
        elif exc.field in ("pitch_mapping", "envelope", "snap_to_beats"):
            message = _("%(field)s is true or false.") % {"field": field}
        else:
            message = _("There is no remix setting called %(name)s.") % {"name": exc.field[:40]}
        raise IsoMixError(message, code=ErrorCode.INVALID_INPUT, extra={"fields": {field: [message]}}) from exc


def remix_remove(*, remix: Remix) -> None:
    """Delete a remix (an operator's): what its unfinished job had reserved goes back, then the remix,
    its job and its files go."""
    with transaction.atomic():
        if remix.job.state not in Job.FINISHED:
            quota_release(job_id=remix.job_id)
        remix_delete(remix=remix)
