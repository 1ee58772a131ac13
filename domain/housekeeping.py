"""Housekeeping writes: orphan files, abandoned work folders, worker heartbeats (expired projects:
``model.services.projects_expired_remove``, which gives back what their jobs had reserved)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from django.core.files.storage import default_storage
from django.utils import timezone

from domain.models import Export, Project, Remix, RemixStem, Stem, StyleSound, WorkerBeat
from domain.work_dirs import work_dir_candidates, work_dir_remove_if_abandoned

#: The top-level storage folders; every file under them belongs to a row.
_OWNED_FOLDERS = ("uploads", "stems", "previews", "exports", "styles", "remixes")


def _storage_walk(folder: str) -> Iterator[str]:
    try:
        dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for name in dirs:
        yield from _storage_walk(f"{folder}/{name}")


def storage_orphans_delete(*, older_than_s: float = 3600, now: datetime | None = None) -> list[str]:
    """Delete stored files no row points at (left by a crash), once they are old enough.

    The age margin keeps files a job is writing right now (before its row exists).
    """
    now = now or timezone.now()
    known: set[str] = set(Project.objects.values_list("original_key", flat=True))
    for file_key, preview_key in Stem.objects.values_list("file_key", "preview_key"):
        known.update((file_key, preview_key))
    known.update(Export.objects.exclude(file_key="").values_list("file_key", flat=True))
    for file_key, grains_key in StyleSound.objects.values_list("file_key", "grains_key"):
        known.update((file_key, grains_key))
    known.update(Remix.objects.exclude(file_key="").values_list("file_key", flat=True))
    for file_key, preview_key in RemixStem.objects.values_list("file_key", "preview_key"):
        known.update((file_key, preview_key))
    deleted = []
    for folder in _OWNED_FOLDERS:
        for key in _storage_walk(folder):
            if key in known:
                continue
            if (now - default_storage.get_modified_time(key)).total_seconds() < older_than_s:
                continue
            default_storage.delete(key)
            deleted.append(key)
    return deleted


def work_dirs_abandoned_delete(*, unmarked_older_than_s: float, now_s: float | None = None) -> list[str]:
    """Delete the temporary work folders (``isomix-<kind>-*``) that no live process uses.

    A folder made by :func:`domain.work_dirs.work_dir` goes as soon as its owner is gone;
    one without an owner file once it is ``unmarked_older_than_s`` old (the caller passes
    the longest job time limit plus a margin). Only this process's temporary folder is
    looked at, so each process that makes work folders should share it with one that sweeps.
    """
    root = Path(tempfile.gettempdir())
    return [
        str(path)
        for path in work_dir_candidates(root=root)
        if work_dir_remove_if_abandoned(path=path, unmarked_older_than_s=unmarked_older_than_s, now_s=now_s)
    ]


def worker_beat(*, name: str, queues: list[str], started_at: datetime) -> None:
    """Record that the worker ``name`` is alive and which queues it consumes."""
    WorkerBeat.objects.update_or_create(
        name=name, defaults={"queues": ",".join(sorted(queues)), "started_at": started_at, "seen_at": timezone.now()}
    )
