"""Stems: all of a project's stored and recorded, or none; shared by reference, never copied."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from domain import storage_keys
from domain.exceptions import ErrorCode, JobGone
from domain.models import Project, Stem
from domain.services.files import storage_delete_now, storage_delete_on_commit, storage_put
from domain.stem_files import StemFiles


def stems_save(*, project: Project, stems: list[StemFiles], version: str = "") -> list[Stem]:
    """Store the stems' files under their keys and record them, replacing earlier ones.

    A separation run again gives a ``version`` (its job's): its files go to keys of their own, the
    earlier stems stay playable until the new rows replace them, and then their files are deleted
    (those no other stem names). Raises ``JobGone`` (and keeps nothing it wrote) when the project
    was deleted meanwhile.
    """
    rows = []
    written: list[str] = []
    try:
        for stem in stems:
            file_key = storage_keys.stem_key(project_id=project.id, kind=stem.kind, version=version)
            written.append(storage_put(key=file_key, content=stem.lossless))
            preview_key = storage_keys.preview_key(
                project_id=project.id, kind=stem.kind, ext=stem.preview.suffix.lstrip("."), version=version
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
        earlier = Stem.objects.filter(project=project)
        old_keys = {k for s in earlier.only("file_key", "preview_key") for k in (s.file_key, s.preview_key)}
        earlier.delete()
        for row in rows:
            row.full_clean()
            row.save(force_insert=True)
        old_keys -= {k for row in rows for k in (row.file_key, row.preview_key)}
        if old_keys:  # the earlier set's files, unless another project's stems name them (shared)
            storage_delete_on_commit(sorted(old_keys - stem_keys_in_use(list(old_keys))))
    return rows


def stem_keys_in_use(keys: list[str]) -> set[str]:
    """The keys among ``keys`` that a stem row still names."""
    in_use: set[str] = set()
    for file_key, preview_key in Stem.objects.filter(Q(file_key__in=keys) | Q(preview_key__in=keys)).values_list(
        "file_key", "preview_key"
    ):
        in_use.update((file_key, preview_key))
    return in_use & set(keys)
