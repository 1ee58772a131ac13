"""Style sounds and remixes: their files stored whole before a row records them, deleted after commit.

A style sound's grain library and a remix's files are written by their jobs; each save is all or
nothing (a failure removes what it wrote) and finds out, under a lock, whether its row was deleted
meanwhile (``JobGone``: the job stops and keeps nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from domain import storage_keys
from domain.exceptions import ErrorCode, JobGone
from domain.models import Job, Project, Remix, RemixStem, StyleSound
from domain.services.files import storage_delete_now, storage_delete_on_commit, storage_put
from domain.services.uploads import InspectedUpload
from domain.stem_files import StemFiles


def _style_name(filename: str) -> str:
    base = Path(filename.replace("\\", "/")).name
    base = base.rsplit(".", 1)[0] if "." in base else base
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return (cleaned or _("Untitled sound"))[:200]


def style_create(*, owner: AbstractBaseUser, inspected: InspectedUpload, original_filename: str) -> StyleSound:
    """Store a validated style sound under a generated key and record it (pending its grains).

    The caller runs this in a transaction and deletes ``style.file_key`` if that transaction
    fails (see ``model.services.styles_upload``); a failure here cleans up itself.
    """
    style_id = uuid4()
    key = storage_keys.style_key(style_id=style_id, ext=inspected.info.extension)
    style = StyleSound(
        id=style_id,
        owner=owner,
        name=_style_name(original_filename),
        original_filename=Path(original_filename.replace("\\", "/")).name[:255],
        file_key=key,
        format=inspected.info.format.split(",")[0],
        duration_s=inspected.info.duration_s,
        size_bytes=inspected.size_bytes,
    )
    style.full_clean()
    storage_put(key=key, content=inspected.path)
    try:
        style.save(force_insert=True)
    except BaseException:
        storage_delete_now([key])
        raise
    return style


def _style_gone() -> JobGone:
    return JobGone(_("This style sound was deleted."), code=ErrorCode.JOB_GONE)


def style_grains_save(
    *, style: StyleSound, library: Path, grain_count: int, grains_duration_s: float, scatter: list[dict[str, Any]]
) -> StyleSound:
    """Store the sound's grain library (an ``.npz`` file) and mark the sound ready.

    Raises ``JobGone`` (and keeps nothing it wrote) when the sound was deleted meanwhile.
    """
    key = storage_keys.style_grains_key(style_id=style.id)
    storage_put(key=key, content=library)
    try:
        with transaction.atomic():
            if StyleSound.objects.select_for_update().filter(id=style.id).first() is None:
                raise _style_gone()
            style.grains_key = key
            style.grain_count = grain_count
            style.grains_duration_s = grains_duration_s
            style.scatter = scatter
            style.status = StyleSound.Status.READY
            style.user_error = ""
            style.full_clean(exclude=["owner"], validate_unique=False)
            style.save(update_fields=["grains_key", "grain_count", "grains_duration_s", "scatter", "status",
                                      "user_error", "updated_at"])  # fmt: skip
    except BaseException:
        storage_delete_now([key])
        raise
    return style


def style_set_failed(*, style: StyleSound, user_error: str) -> None:
    """The sound's grains could not be made: say why, in the user's words."""
    StyleSound.objects.filter(id=style.id).update(status=StyleSound.Status.FAILED, user_error=user_error)


def style_set_pending(*, style: StyleSound) -> None:
    """The sound's job runs again (an operator's retry)."""
    StyleSound.objects.filter(id=style.id).update(status=StyleSound.Status.PENDING, user_error="")


def style_delete(*, style: StyleSound) -> None:
    """Delete the sound, its job and its files (after the deletion commits).

    A remix already made keeps its files; a remix still to run that names the sound fails with
    a plain message when it looks for it.
    """
    with transaction.atomic():
        StyleSound.objects.select_for_update().filter(id=style.id).first()
        keys = [style.file_key, style.grains_key]
        style.delete()
        storage_delete_on_commit([k for k in keys if k])


def remix_create(*, project: Project, job: Job, stems: dict[str, Any], settings: dict[str, Any]) -> Remix:
    """Record a remix of ``project`` to be made by ``job`` (its request, already validated)."""
    remix = Remix(project=project, job=job, stems=stems, settings=settings)
    remix.full_clean()
    remix.save(force_insert=True)
    return remix


def remix_files_save(*, remix: Remix, stems: list[StemFiles], mix: Path) -> Remix:
    """Store the re-voiced stems and the remix's mix, and record them: all of them or none.

    Raises ``JobGone`` (and keeps nothing it wrote) when the remix or its song was deleted meanwhile.
    """
    written: list[str] = []
    rows = []
    try:
        for stem in stems:
            file_key = storage_keys.remix_stem_key(remix_id=remix.id, kind=stem.kind)
            written.append(storage_put(key=file_key, content=stem.lossless))
            ext = stem.preview.suffix.lstrip(".")
            preview_key = storage_keys.remix_preview_key(remix_id=remix.id, kind=stem.kind, ext=ext)
            written.append(storage_put(key=preview_key, content=stem.preview))
            rows.append(
                RemixStem(
                    remix=remix,
                    kind=stem.kind,
                    file_key=file_key,
                    preview_key=preview_key,
                    peaks=stem.peaks,
                    peaks_per_second=stem.peaks_per_second,
                    duration_s=stem.duration_s,
                )
            )
        mix_key = storage_keys.remix_key(remix_id=remix.id, ext=mix.suffix.lstrip("."))
        written.append(storage_put(key=mix_key, content=mix))
        with transaction.atomic():
            if Remix.objects.select_for_update().filter(id=remix.id).first() is None:
                raise JobGone(_("This job's project was deleted."), code=ErrorCode.JOB_GONE)
            RemixStem.objects.filter(remix=remix).delete()  # a re-run writes the same keys again
            for row in rows:
                row.full_clean()
                row.save(force_insert=True)
            remix.file_key = mix_key
            remix.save(update_fields=["file_key"])
    except BaseException:
        storage_delete_now(written)
        raise
    return remix


def remix_keys(*, project: Project) -> list[str]:
    """Every file the project's remixes wrote (for the project's deletion)."""
    keys = [k for k in Remix.objects.filter(project=project).values_list("file_key", flat=True) if k]
    for file_key, preview_key in RemixStem.objects.filter(remix__project=project).values_list(
        "file_key", "preview_key"
    ):
        keys += [file_key, preview_key]
    return keys
