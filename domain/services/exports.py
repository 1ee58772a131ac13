"""Exports: the row with its settings first, the rendered file recorded once it is stored."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from domain import storage_keys
from domain.exceptions import ErrorCode, JobGone
from domain.mix import MixSettings
from domain.models import Export, Job, Project, Remix
from domain.services.files import storage_delete_now, storage_put


def export_create(
    *,
    project: Project,
    fmt: str,
    mix: MixSettings,
    job: Job,
    bitrate_kbps: int | None = None,
    region: str = Export.Region.ALL,
    remix: Remix | None = None,
) -> Export:
    """Record an export to render (``model.services.export_start`` checked its options); ``remix``
    is the one whose re-voiced stems the mixer had."""
    export = Export(
        project=project, job=job, format=fmt, settings=mix.to_json(), bitrate_kbps=bitrate_kbps, region=region,
        remix=remix,
    )  # fmt: skip
    export.full_clean()
    export.save(force_insert=True)
    return export


def export_file_save(*, export: Export, path: Path) -> Export:
    """Store the rendered mix and record it; ``JobGone`` (and no file) if the export was deleted.

    The project row is locked as :func:`project_delete` locks it, so either the deletion
    sees the file's key (and deletes the file) or this sees the export gone.
    """
    key = storage_put(key=storage_keys.export_key(export_id=export.id, ext=export.extension), content=path)
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
