"""Projects: created with their original stored, deleted with every file no other row needs."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from domain import storage_keys
from domain.exceptions import ErrorCode, JobGone
from domain.models import Export, Project, Stem
from domain.services.files import storage_delete_on_commit, storage_put
from domain.services.remix import remix_keys
from domain.services.stems import stem_keys_in_use
from domain.services.uploads import InspectedUpload


def _display_name(*, name: str, filename: str) -> str:
    name = (name or "").strip()
    if not name:
        # Only the last part of a client-supplied name, and never used as a storage key.
        stem = Path(filename.replace("\\", "/")).name
        name = stem.rsplit(".", 1)[0] if "." in stem else stem
    cleaned = "".join(ch for ch in name if ch.isprintable()).strip()
    return (cleaned or _("Untitled song"))[:200]


def project_create(
    *,
    owner: AbstractBaseUser,
    inspected: InspectedUpload,
    original_filename: str,
    retention_days: int,
    limits: dict[str, Any] | None = None,
    name: str = "",
) -> Project:
    """Store the original under a generated key and record the project.

    ``retention_days`` (0: kept until deleted) and ``limits`` are the owner's plan's at upload
    (``limits`` is kept as given, for the jobs to come). The caller runs this in a transaction and
    deletes ``project.original_key`` if that transaction fails (see
    ``model.services.project_upload``); a failure here cleans up itself.
    """
    project_id = uuid4()
    key = storage_keys.original_key(project_id=project_id, ext=inspected.info.extension)
    project = Project(
        id=project_id,
        owner=owner,
        limits=limits or {},
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
        stems = list(Stem.objects.filter(project=project).only("file_key", "preview_key"))
        keys = [project.original_key]
        keys += [k for s in stems for k in (s.file_key, s.preview_key)]
        keys += [e.file_key for e in Export.objects.filter(project=project)]
        keys += remix_keys(project=project)
        project.delete()
        shared = stem_keys_in_use(keys)
        storage_delete_on_commit([k for k in keys if k not in shared])


def projects_expiry_extend(*, owner_id: int, retention_days: int) -> int:
    """Keep every project of the owner at least ``retention_days`` from its upload (0: keep them
    all): a plan with a longer retention. Never earlier than a project's date already is: a song a
    downgrade left until a date keeps at least that date. Returns how many projects it changed."""
    projects = Project.objects.filter(owner_id=owner_id).exclude(expires_at=None)
    if retention_days <= 0:
        return projects.update(expires_at=None)
    until = ExpressionWrapper(F("created_at") + timedelta(days=retention_days), output_field=DateTimeField())
    return projects.filter(expires_at__lt=until).update(expires_at=until)


def projects_expiry_cap(*, owner_id: int, until: datetime) -> int:
    """Keep no project of the owner past ``until`` (a plan with a shorter retention: the songs stay
    until its retention, counted from the change, runs out). Returns how many projects it changed."""
    return (
        Project.objects.filter(owner_id=owner_id)
        .filter(Q(expires_at=None) | Q(expires_at__gt=until))
        .update(expires_at=until)
    )


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
