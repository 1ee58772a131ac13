"""The studio in this process, for the rows that time its code directly.

Django on a throw-away var folder, the rendered test songs (cached in ``var/bench/``),
users, uploads and a timed separation. ``bench/memory_probe.py`` runs the same in a fresh
process. Django is imported inside the functions: :func:`django_setup` comes first.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from bench.stack import PRODUCTION_VARS, ROOT

CACHE = ROOT / "var" / "bench"


def django_setup(var_dir: Path) -> None:
    """Django on ``var_dir`` (the offline engine unless one is set), migrated."""
    os.environ["ISOMIX_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isomix.settings")
    os.environ.setdefault("ISOMIX_SEPARATION_ENGINE", "offline")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def engine_env() -> dict[str, str]:
    """The separation engine this process runs, for the servers and workers it starts (a stack's default is offline)."""
    return {"ISOMIX_SEPARATION_ENGINE": os.environ["ISOMIX_SEPARATION_ENGINE"]}


def same_settings_env() -> dict[str, str]:
    """What makes a server run on this process's own settings and database (with its var folder)."""
    names = ("DJANGO_SETTINGS_MODULE", "ISOMIX_SEPARATION_ENGINE", *PRODUCTION_VARS)
    return {name: os.environ[name] for name in names if name in os.environ}


def song_file(duration_s: float, *, fmt: str = "wav", bitrate: str = "192k") -> Path:
    """A rendered song of ``duration_s`` as ``fmt`` (MP3 at ``bitrate``), cached in ``CACHE``."""
    import soundfile as sf

    from bench.multitrack import render_long_song

    path = CACHE / f"long-{int(duration_s)}s.{fmt}"
    if path.exists():
        return path
    audio = render_long_song(duration_s=duration_s, sr=44100, seed=1, workdir=CACHE / "work")
    if fmt in ("wav", "flac"):
        sf.write(str(path), audio.T, 44100, subtype="PCM_16")
        return path
    wav = path.with_suffix(".src.wav")
    sf.write(str(wav), audio.T, 44100, subtype="PCM_16")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame", "-b:a", bitrate, str(path)], check=True
    )
    wav.unlink()
    return path


def bench_user(username: str):
    """The user ``username``, created with a password on first use, on a plan whose limits the
    benchmarks never reach (they measure speed; the quota rows measure the limits)."""
    from django.contrib.auth import get_user_model

    from bench.run.billing import UNLIMITED, plan_assign

    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_password("bench-passphrase-42")
        user.save()
        plan_assign(user, slug="bench-unlimited", **UNLIMITED)
    return user


def project_from_file(path: Path, owner):
    """Upload ``path`` as ``owner`` through the upload service (its separation job queued, not run)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from model.services import project_upload

    return project_upload(owner=owner, upload=SimpleUploadedFile(path.name, path.read_bytes()))


def separate_timed(project) -> float:
    """Run ``project``'s separation job in this process; its seconds. Raises unless the project ends ready."""
    import dramatiq

    from domain.models import Job, Project
    from model.actors import separate_stems

    job = Job.objects.get(project=project, kind=Job.Kind.SEPARATE)
    start = time.perf_counter()
    separate_stems.fn(str(job.id))
    elapsed = time.perf_counter() - start
    dramatiq.get_broker().flush_all()
    status = Project.objects.get(id=project.id).status
    if status != Project.Status.READY:
        raise RuntimeError(f"separation ended {status}: {Job.objects.get(id=job.id).error}")
    return elapsed
