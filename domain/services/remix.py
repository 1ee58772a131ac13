"""Style sounds and remixes: their files stored whole before a row records them, deleted after commit.

A style sound's grain library and a remix's files are written by their jobs; each save is all or
nothing (a failure removes what it wrote) and finds out, under a lock, whether its row was deleted
meanwhile (``JobGone``: the job stops and keeps nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from domain import storage_keys
from domain.exceptions import ErrorCode, IsoMixError, JobGone
from domain.models import Job, Project, Remix, RemixStem, StyleSound
from domain.services.files import storage_delete_now, storage_delete_on_commit, storage_put
from domain.services.uploads import InspectedUpload
from domain.stem_files import StemFiles


def _style_name(filename: str) -> str:
    base = Path(filename.replace("\\", "/")).name
    base = base.rsplit(".", 1)[0] if "." in base else base
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return (cleaned or _("Untitled sound"))[:200]


def style_store(*, owner: AbstractBaseUser, inspected: InspectedUpload, original_filename: str) -> StyleSound:
    """Store a validated style sound under a generated key; the row is not saved yet
    (:func:`styles_record` saves it). The caller deletes ``style.file_key`` if that fails."""
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
    return style


def styles_record(*, owner: AbstractBaseUser, styles: list[StyleSound], max_kept: int) -> None:
    """Save stored style sounds (in the caller's transaction), at most ``max_kept`` per owner.

    Raises ``IsoMixError`` (``style_limit``) when they would pass it; the owner's row is locked first,
    so two uploads at once cannot both pass the count.
    """
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
    kept = StyleSound.objects.filter(owner=owner).count()
    if kept + len(styles) > max_kept:
        raise style_limit_error(max_kept=max_kept, kept=kept)
    for style in styles:
        style.save(force_insert=True)


def style_limit_error(*, max_kept: int, kept: int) -> IsoMixError:
    return IsoMixError(
        _("You can keep %(max)d style sounds: delete some to upload more.") % {"max": max_kept},
        code=ErrorCode.STYLE_LIMIT,
        extra={"max_styles": max_kept, "kept": kept},
    )


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
        locked = StyleSound.objects.select_for_update().filter(id=style.id).first()
        if locked is None:
            return
        # Its keys as the row holds them now (a grain job may have finished since ``style`` was read),
        # and the grains' key either way: a job still running writes it and then finds the row gone.
        keys = {locked.file_key, locked.grains_key, storage_keys.style_grains_key(style_id=locked.id)}
        locked.delete()
        storage_delete_on_commit(sorted(k for k in keys if k))


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
            # The song's row first, as project_delete locks it: either the deletion sees these keys
            # (and deletes the files) or this sees the remix gone.
            Project.objects.select_for_update().filter(id=remix.project_id).first()
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


def remix_delete(*, remix: Remix) -> None:
    """Delete a remix with its job and its files (after the deletion commits); the song stays."""
    with transaction.atomic():
        Project.objects.select_for_update().filter(id=remix.project_id).first()
        keys = [remix.file_key] if remix.file_key else []
        for file_key, preview_key in RemixStem.objects.filter(remix=remix).values_list("file_key", "preview_key"):
            keys += [file_key, preview_key]
        Job.objects.filter(id=remix.job_id).delete()  # the remix goes with it (its one-to-one)
        storage_delete_on_commit(keys)


def remix_keys(*, project: Project) -> list[str]:
    """Every file the project's remixes wrote (for the project's deletion)."""
    keys = [k for k in Remix.objects.filter(project=project).values_list("file_key", flat=True) if k]
    for file_key, preview_key in RemixStem.objects.filter(remix__project=project).values_list(
        "file_key", "preview_key"
    ):
        keys += [file_key, preview_key]
    return keys
