"""Writes to the domain: projects, stems, jobs and exports, and their files.

Files are written whole to the storage before a row records them, and deleting a row
deletes its files once the deletion commits.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any
from uuid import UUID, uuid4

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from domain import storage_keys
from domain.audio import AudioInfo, audio_probe
from domain.events import job_progress_publish
from domain.exceptions import ErrorCode, FileTooLarge, IsoMixError, JobConflict, JobGone, JobNotRetryable
from domain.mix import MixSettings
from domain.models import Export, Job, Project, Stem
from domain.stem_files import StemFiles
from domain.work_dirs import WorkDirKind, work_dir

_CHUNK = 1 << 20


# ---------------------------------------------------------------- files


def storage_put(*, key: str, content: IO[bytes] | Path) -> str:
    """Write ``content`` whole under ``key``, replacing what was there (re-runs are idempotent).

    A write that fails part-way leaves nothing under ``key``.
    """
    if default_storage.exists(key):
        default_storage.delete(key)
    try:
        if isinstance(content, Path):
            with content.open("rb") as fh:
                saved = default_storage.save(key, File(fh))
        else:
            saved = default_storage.save(key, File(content))
    except BaseException:
        if default_storage.exists(key):
            default_storage.delete(key)
        raise
    if saved != key:  # the storage renamed it: someone else wrote the key meanwhile
        default_storage.delete(saved)
        raise IsoMixError(_("The file could not be stored."), code=ErrorCode.STORAGE_ERROR)
    return key


def storage_delete_on_commit(keys: list[str]) -> None:
    transaction.on_commit(lambda: storage_delete_now(keys))


@contextmanager
def storage_local_copy(key: str) -> Iterator[Path]:
    """A local path to the stored file ``key`` (the file itself on local disk)."""
    try:
        yield Path(default_storage.path(key))
        return
    except NotImplementedError:
        pass
    suffix = Path(key).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with default_storage.open(key, "rb") as src:
            shutil.copyfileobj(src, tmp, _CHUNK)
        tmp.flush()
        yield Path(tmp.name)


# ---------------------------------------------------------------- uploads


@dataclass(frozen=True)
class InspectedUpload:
    path: Path
    info: AudioInfo
    sha256: str
    size_bytes: int


@contextmanager
def upload_inspect(*, upload: UploadedFile, max_bytes: int, max_duration_s: float) -> Iterator[InspectedUpload]:
    """Validate an upload by its content and yield it as a local file with its facts.

    Raises ``FileTooLarge``, ``InvalidAudio`` or ``AudioTooLong``; nothing is stored.
    """
    if upload.size is not None and upload.size > max_bytes:
        raise FileTooLarge(
            _("The file is larger than %(mb)d MB.") % {"mb": max_bytes // 1_000_000},
            code=ErrorCode.FILE_TOO_LARGE,
            extra={"max_bytes": max_bytes},
        )
    with work_dir(kind=WorkDirKind.UPLOAD) as tmpdir:
        digest = hashlib.sha256()
        size = 0
        # A neutral name: ffmpeg must judge the content, never the client's extension.
        path = Path(tmpdir) / "upload.bin"
        if _hard_link(upload, path):  # already on disk: read it once, copy nothing
            for chunk in upload.chunks(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        else:
            with path.open("wb") as out:
                for chunk in upload.chunks(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        info = audio_probe(path=path, max_duration_s=max_duration_s)
        yield InspectedUpload(path=path, info=info, sha256=digest.hexdigest(), size_bytes=size)


def _hard_link(upload: UploadedFile, path: Path) -> bool:
    if not hasattr(upload, "temporary_file_path"):
        return False
    try:
        os.link(upload.temporary_file_path(), path)
    except OSError:  # another filesystem: copy instead
        return False
    return True


def _display_name(*, name: str, filename: str) -> str:
    name = (name or "").strip()
    if not name:
        # Only the last part of a client-supplied name, and never used as a storage key.
        stem = Path(filename.replace("\\", "/")).name
        name = stem.rsplit(".", 1)[0] if "." in stem else stem
    cleaned = "".join(ch for ch in name if ch.isprintable()).strip()
    return (cleaned or _("Untitled song"))[:200]


def project_create(
    *, owner: AbstractBaseUser, inspected: InspectedUpload, original_filename: str, name: str = ""
) -> Project:
    """Store the original under a generated key and record the project.

    The caller runs this in a transaction and deletes ``project.original_key`` if that
    transaction fails (see ``model.services.project_upload``); a failure here cleans up itself.
    """
    project_id = uuid4()
    key = storage_keys.original_key(project_id=project_id, ext=inspected.info.extension)
    retention_days = settings.ISOMIX_RETENTION_DAYS
    project = Project(
        id=project_id,
        owner=owner,
        expires_at=timezone.now() + timedelta(days=retention_days) if retention_days > 0 else None,
        name=_display_name(name=name, filename=original_filename),
        original_key=key,
        original_filename=Path(original_filename.replace("\\", "/")).name[:255],
        sha256=inspected.sha256,
        format=inspected.info.format.split(",")[0],
        duration_s=inspected.info.duration_s,
        sample_rate=inspected.info.sample_rate,
        channels=inspected.info.channels,
        size_bytes=inspected.size_bytes,
    )
    project.full_clean()
    storage_put(key=key, content=inspected.path)
    try:
        project.save(force_insert=True)
    except Exception:
        default_storage.delete(key)
        raise
    return project


def storage_delete_now(keys: list[str]) -> None:
    """Delete stored files right away (for files no committed row points at)."""
    for key in keys:
        if key and default_storage.exists(key):
            default_storage.delete(key)


def project_delete(*, project: Project) -> None:
    """Delete the project, its stems, jobs and exports, and then the files no other row needs.

    Stem files can be shared with the owner's other projects of the same audio
    (:func:`stems_share`): a key another project's stem still names is kept. The project row
    is locked first, so a share from it either finished before (and its keys are kept) or
    sees the project gone (and separates instead). A job still running for the project
    notices its row is gone (``JobGone``) and removes what it wrote.
    """
    with transaction.atomic():
        Project.objects.select_for_update().filter(id=project.id).first()
        stems = list(Stem.objects.filter(project=project))
        keys = [project.original_key]
        keys += [k for s in stems for k in (s.file_key, s.preview_key)]
        keys += [e.file_key for e in Export.objects.filter(project=project)]
        project.delete()
        shared = _stem_keys_in_use(keys)
        storage_delete_on_commit([k for k in keys if k not in shared])


def _stem_keys_in_use(keys: list[str]) -> set[str]:
    """The keys among ``keys`` that a stem row still names."""
    in_use: set[str] = set()
    for file_key, preview_key in Stem.objects.filter(Q(file_key__in=keys) | Q(preview_key__in=keys)).values_list(
        "file_key", "preview_key"
    ):
        in_use.update((file_key, preview_key))
    return in_use & set(keys)


# ---------------------------------------------------------------- jobs


def job_create(*, project: Project, kind: str) -> Job:
    job = Job(project=project, kind=kind)
    job.full_clean()
    job.save(force_insert=True)
    return job


_TRANSITIONS: dict[str, set[str]] = {
    Job.State.QUEUED: {Job.State.RUNNING, Job.State.FAILED, Job.State.CANCELLED},
    # No running → running: a job another worker runs (or ran, before it died) is taken back
    # only by the stale-job sweep (running → queued), never by a second message for it.
    Job.State.RUNNING: {Job.State.QUEUED, Job.State.DONE, Job.State.FAILED, Job.State.CANCELLED},
    Job.State.FAILED: {Job.State.QUEUED},
    Job.State.DONE: set(),
    Job.State.CANCELLED: set(),
}

_JOB_STATE_FIELDS = [
    "state", "heartbeat_at", "started_at", "finished_at", "attempts", "error", "user_error", "enqueued_at",
    "progress", "stage", "engine", "model_name",
]  # fmt: skip


def job_set_state(
    *,
    job: Job,
    state: str,
    stage: str | None = None,
    progress: int | None = None,
    error: str = "",
    user_error: str = "",
    engine: str | None = None,
    model_name: str | None = None,
) -> Job:
    """Move ``job`` to ``state`` (checked against the allowed transitions) and publish it.

    The write is a compare-and-set on the state ``job`` was read in, so of two workers
    handed the same job (a message delivered twice) exactly one moves it.

    Raises
    ------
    JobNotRetryable
        The transition is not allowed.
    JobConflict
        The row is no longer in the state ``job`` was read in: someone else moved it.
    JobGone
        The row was deleted (its project was deleted).
    """
    if state not in _TRANSITIONS[job.state]:
        raise JobNotRetryable(
            _("A job that is %(state)s cannot become %(new)s.") % {"state": job.state, "new": state},
            code=ErrorCode.JOB_NOT_RETRYABLE,
        )
    was, was_attempts = job.state, job.attempts
    now = timezone.now()
    job.state = state
    job.heartbeat_at = now if state == Job.State.RUNNING else None
    if state == Job.State.RUNNING:
        job.started_at = now
        job.finished_at = None
        job.attempts += 1
        job.error = job.user_error = ""
    elif state == Job.State.QUEUED:
        job.enqueued_at = None
        job.progress = 0
        job.stage = ""
        job.started_at = job.finished_at = None
        job.error = job.user_error = ""
    else:
        job.finished_at = now
    if state == Job.State.DONE:
        job.progress = 100
    if stage is not None:
        job.stage = stage
    if progress is not None:
        job.progress = progress
    if state == Job.State.FAILED:
        job.error = error
        job.user_error = user_error or _("Something went wrong while processing this song.")
    if engine is not None:
        job.engine = engine
    if model_name is not None:
        job.model_name = model_name
    job.full_clean(exclude=["project"], validate_unique=False)
    # The attempt number too: a worker whose run the sweep took back (and another worker
    # started again) is on an older attempt, and none of its writes may land.
    moved = Job.objects.filter(id=job.id, state=was, attempts=was_attempts).update(
        **{f: getattr(job, f) for f in _JOB_STATE_FIELDS}
    )
    if not moved:
        job.state, job.attempts = was, was_attempts
        _job_missing_or_moved(job_id=job.id)
    job_progress_publish(job)
    return job


def _job_missing_or_moved(*, job_id: UUID) -> None:
    if Job.objects.filter(id=job_id).exists():
        raise JobConflict(_("Another worker has this job."), code=ErrorCode.JOB_CONFLICT)
    raise JobGone(_("This job's project was deleted."), code=ErrorCode.JOB_GONE)


def job_mark_enqueued(*, job_id: UUID | str) -> None:
    """Record that the job's message reached the broker (see ``model.services.jobs_sweep``)."""
    Job.objects.filter(id=job_id).update(enqueued_at=timezone.now())


def job_heartbeat(*, job_id: UUID | str, attempt: int) -> bool:
    """The worker running ``attempt`` of this job is alive.

    False when that run is over: the job is gone, no longer running, or running again as
    a later attempt (the sweep took it back and another worker started it).
    """
    return bool(
        Job.objects.filter(id=job_id, state=Job.State.RUNNING, attempts=attempt).update(heartbeat_at=timezone.now())
    )


def job_progress_set(*, job: Job, progress: int, stage: str) -> None:
    """Record a running job's progress without touching the rest of the row.

    Raises ``JobGone`` when the job was deleted meanwhile, so the work stops at once.
    """
    job.progress = progress
    job.stage = stage
    job.heartbeat_at = timezone.now()
    updated = Job.objects.filter(id=job.id, state=Job.State.RUNNING, attempts=job.attempts).update(
        progress=progress, stage=stage, heartbeat_at=job.heartbeat_at
    )
    if not updated:
        _job_missing_or_moved(job_id=job.id)
    job_progress_publish(job)


def job_engine_set(*, job: Job, engine: str, model_name: str) -> None:
    """Record which engine and model a running job uses."""
    job.engine, job.model_name = engine, model_name
    Job.objects.filter(id=job.id).update(engine=engine, model_name=model_name)


def project_set_status(*, project: Project, status: str, error: str = "", **facts: Any) -> Project:
    """Record the project's status (and facts such as its engine); ``JobGone`` if it was deleted.

    An update, never an insert: a worker finishing late must not bring back a deleted project.
    """
    project.status = status
    project.error = error
    for field, value in facts.items():
        setattr(project, field, value)
    project.full_clean(exclude=["owner"], validate_unique=False)
    project.updated_at = timezone.now()
    fields = ["status", "error", "updated_at", *facts]
    if not Project.objects.filter(id=project.id).update(**{f: getattr(project, f) for f in fields}):
        raise JobGone(_("This job's project was deleted."), code=ErrorCode.JOB_GONE)
    return project


# ---------------------------------------------------------------- stems


def stems_save(*, project: Project, stems: list[StemFiles]) -> list[Stem]:
    """Store the stems' files under their keys and record them (replacing earlier ones).

    Raises ``JobGone`` (and keeps nothing it wrote) when the project was deleted meanwhile.
    """
    rows = []
    written: list[str] = []
    try:
        for stem in stems:
            file_key = storage_keys.stem_key(project_id=project.id, kind=stem.kind)
            written.append(storage_put(key=file_key, content=stem.lossless))
            preview_key = storage_keys.preview_key(
                project_id=project.id, kind=stem.kind, ext=stem.preview.suffix.lstrip(".")
            )
            written.append(storage_put(key=preview_key, content=stem.preview))
            rows.append(
                Stem(
                    project=project,
                    kind=stem.kind,
                    file_key=file_key,
                    preview_key=preview_key,
                    peaks=stem.peaks,
                    peaks_per_second=stem.peaks_per_second,
                    duration_s=stem.duration_s,
                )
            )
        return _stems_record(project=project, rows=rows)
    except BaseException:
        storage_delete_now(written)  # all the stems or none: no row points at a partial set
        raise


def stems_share(*, source: Project, target: Project) -> list[Stem]:
    """Give ``target`` the stems of ``source`` (same owner, same audio, same engine) by reference.

    No file is copied: the new rows name ``source``'s keys, and :func:`project_delete`
    keeps a key while any stem names it. Returns an empty list when ``source`` was deleted
    meanwhile (the caller separates instead).
    """
    with transaction.atomic():
        if Project.objects.select_for_update().filter(id=source.id).first() is None:
            return []
        rows = [
            Stem(
                project=target,
                kind=stem.kind,
                file_key=stem.file_key,
                preview_key=stem.preview_key,
                peaks=stem.peaks,
                peaks_per_second=stem.peaks_per_second,
                duration_s=stem.duration_s,
            )
            for stem in Stem.objects.filter(project=source)
        ]
        return _stems_record(project=target, rows=rows) if rows else []


def _stems_record(*, project: Project, rows: list[Stem]) -> list[Stem]:
    with transaction.atomic():
        if Project.objects.select_for_update().filter(id=project.id).first() is None:
            raise JobGone(_("This job's project was deleted."), code=ErrorCode.JOB_GONE)
        Stem.objects.filter(project=project).delete()
        for row in rows:
            row.full_clean()
            row.save(force_insert=True)
    return rows


# ---------------------------------------------------------------- exports


def export_create(*, project: Project, fmt: str, mix: MixSettings, job: Job) -> Export:
    export = Export(project=project, job=job, format=fmt, settings=mix.to_json())
    export.full_clean()
    export.save(force_insert=True)
    return export


def export_file_save(*, export: Export, path: Path) -> Export:
    """Store the rendered mix and record it; ``JobGone`` (and no file) if the export was deleted.

    The project row is locked as :func:`project_delete` locks it, so either the deletion
    sees the file's key (and deletes the file) or this sees the export gone.
    """
    key = storage_put(key=storage_keys.export_key(export_id=export.id, ext=export.format), content=path)
    try:
        with transaction.atomic():
            Project.objects.select_for_update().filter(id=export.project_id).first()
            if not Export.objects.filter(id=export.id).update(file_key=key):
                raise JobGone(_("This job's project was deleted."), code=ErrorCode.JOB_GONE)
    except BaseException:
        storage_delete_now([key])
        raise
    export.file_key = key
    return export
