"""Test data in one place: users, and projects with real stem files."""

from __future__ import annotations

import itertools
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from domain import storage_keys
from domain.mix import MixSettings
from domain.models import Job, MixPreset, Project
from domain.services import stems_save, storage_put
from domain.stem_files import StemFiles
from model.pipelines.media import encode_preview, peaks, write_flac
from tests.audio import song

_seq = itertools.count()
PASSWORD = "a-long-test-passphrase-42"


def user_create(*, username: str | None = None) -> AbstractBaseUser:
    return get_user_model().objects.create_user(username=username or f"user{next(_seq)}", password=PASSWORD)


def project_create_ready(
    *, owner: AbstractBaseUser, duration_s: float = 2.0, sr: int = 44100, kinds=("vocals", "drums", "bass", "other")
) -> Project:
    """A ready project whose stems are real FLAC/MP3 files: each stem is a different sine."""
    project = Project.objects.create(
        owner=owner,
        name=f"Song {next(_seq)}",
        original_key="",
        original_filename="song.wav",
        sha256=f"{next(_seq):064x}",
        format="wav",
        duration_s=duration_s,
        sample_rate=sr,
        channels=2,
        size_bytes=1000,
        status=Project.Status.READY,
        engine="offline",
        model_name="test",
    )
    mix = song(duration_s=duration_s, sr=sr)
    project.original_key = storage_keys.original_key(project_id=project.id, ext="flac")
    with tempfile.TemporaryDirectory() as tmp:
        write_flac(path=Path(tmp) / "orig.flac", audio=mix, sr=sr)
        storage_put(key=project.original_key, content=Path(tmp) / "orig.flac")
        project.save()
        t = np.arange(int(duration_s * sr)) / sr
        files = []
        for i, kind in enumerate(kinds):
            audio = np.tile((0.2 * np.sin(2 * np.pi * 110 * (i + 1) * t)).astype(np.float32), (2, 1))
            lossless = write_flac(path=Path(tmp) / f"{kind}.flac", audio=audio, sr=sr)
            preview = encode_preview(source=lossless, out=Path(tmp) / f"{kind}.mp3")
            files.append(
                StemFiles(
                    kind=kind,
                    lossless=lossless,
                    preview=preview,
                    peaks=peaks(audio=audio, sr=sr),
                    peaks_per_second=50,
                    duration_s=duration_s,
                )
            )
        stems_save(project=project, stems=files)
    Job.objects.create(project=project, kind=Job.Kind.SEPARATE, state=Job.State.DONE, progress=100)
    return project


def mix_preset_create(*, project: Project, name: str, settings: MixSettings | None = None) -> MixPreset:
    """A named preset of ``project`` (at rest unless ``settings`` are given), one strip per stem."""
    kinds = [s.kind for s in project.stems.all()]
    return MixPreset.objects.create(
        project=project, name=name, settings=(settings or MixSettings()).for_kinds(kinds).to_json()
    )


def catalogue_write(*, root: Path, language: str, messages: dict[str, str]) -> Path:
    """A compiled Django catalogue (``root/<language>/LC_MESSAGES/django.mo``) of ``messages``; returns ``root``.

    For tests that check a message is translated where it is shown, whatever the shipped
    catalogues hold: point ``settings.LOCALE_PATHS`` at ``root``.
    """
    folder = root / language / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    entries = "".join(f'msgid "{msgid}"\nmsgstr "{msgstr}"\n\n' for msgid, msgstr in messages.items())
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    (folder / "django.po").write_text(header + entries, encoding="utf-8")
    subprocess.run(["msgfmt", "-o", str(folder / "django.mo"), str(folder / "django.po")], check=True)
    return root


def plan_update(slug: str = "free", **limits) -> None:
    """Change limits of a plan the data migration made (``plan_update("free", uploads_per_day=1)``)."""
    from business.models import Plan

    plan = Plan.objects.get(slug=slug)
    for field, value in limits.items():
        setattr(plan, field, value)
    plan.full_clean()
    plan.save()


def user_make_pro(user: AbstractBaseUser) -> AbstractBaseUser:
    """Put ``user`` on the Pro plan, as an operator's assignment does (no subscription)."""
    from business.models import Plan
    from business.services import account_get_or_create, account_plan_sync

    account = account_get_or_create(user=user)
    account.plan = Plan.objects.get(slug="pro")
    account.save(update_fields=["plan"])
    account_plan_sync(account=account)
    return user


def pro_user_create(*, username: str | None = None) -> AbstractBaseUser:
    return user_make_pro(user_create(username=username))
