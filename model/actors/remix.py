"""The granular remix's jobs (cpu queue): a style sound's grain library, and a song's remix.

A remix decodes, re-voices and frees one stem at a time (a 10-minute song stays within 2 GB),
adding each to the mix as it goes; the re-voiced stems are written as FLAC with an MP3 preview
and peaks, like the song's own, and the mix is loudness-normalised. Numpy and librosa work only:
no model to load.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from domain.exceptions import ErrorCode, InvalidAudio, IsoMixError
from domain.models import Analysis, Job, StyleSound
from domain.remix import STYLE_MAX_DURATION_S, db_to_gain, remix_stems_load
from domain.services import remix_files_save, storage_local_copy, style_grains_save
from domain.stem_files import StemFiles
from domain.work_dirs import WorkDirKind, work_dir
from model.actors import PRIORITY_FIRST, isomix_actor, run_job
from model.pipelines.media import decode_audio, stem_write, write_flac
from model.progress import Progress
from model.queues import Queue

#: The plot of a library shows at most this many grains (spread over the whole sound).
SCATTER_POINTS = 500

# ---------------------------------------------------------------- grain library


def _style(job: Job, progress: Progress) -> None:
    from model.pipelines.remix import LIBRARY_SR, NoGrains, grain_library_build

    style = job.style
    with storage_local_copy(style.file_key) as path:
        stereo = decode_audio(path=path, sr=LIBRARY_SR, max_duration_s=STYLE_MAX_DURATION_S + 1.0)
    mono = np.ascontiguousarray(stereo.mean(axis=0), dtype=np.float32)
    del stereo
    progress.update("grains", 0.0)
    try:
        library = grain_library_build(audio=mono, sr=LIBRARY_SR, progress=progress.callback("grains"))
    except NoGrains as exc:
        raise InvalidAudio(
            gettext(
                "This sound has nothing to make grains of: it is silent, or every sound in it is shorter than "
                "a few hundredths of a second."
            ),
            code=ErrorCode.AUDIO_TOO_SHORT,
        ) from exc
    progress.update("store", 0.0)
    with work_dir(kind=WorkDirKind.REMIX) as tmpdir:
        path = Path(tmpdir) / "grains.npz"
        path.write_bytes(library.to_npz())
        style_grains_save(
            style=style,
            library=path,
            grain_count=library.n_grains,
            grains_duration_s=float(library.duration_s),
            scatter=library.scatter(max_points=SCATTER_POINTS),
        )


_STYLE_STAGES = [("decode", 20), ("grains", 70), ("store", 10)]


@isomix_actor(queue=Queue.CPU, time_limit_s=5 * 60)
def style_grains(job_id: str) -> None:
    run_job(job_id, _style, _STYLE_STAGES)


# ---------------------------------------------------------------- remix


def _styles_of(job: Job, ids: list[str]) -> dict[str, StyleSound]:
    found = StyleSound.objects.filter(owner_id=job.project.owner_id, id__in=ids, status=StyleSound.Status.READY)
    styles = {str(s.id): s for s in found}
    if len(styles) != len(set(ids)):
        raise IsoMixError(
            gettext("A style sound this remix uses was deleted. Choose another and remix again."),
            code=ErrorCode.STYLE_NOT_READY,
        )
    return styles


def _beats(job: Job) -> np.ndarray | None:
    analysis = Analysis.objects.filter(project=job.project).only("beats").first()
    if analysis is None or not analysis.beats:
        return None
    return np.asarray(analysis.beats, dtype=np.float64)


def _remix(job: Job, progress: Progress) -> None:
    from model.grain_cache import grain_library_load
    from model.pipelines.remix import RemixSettings, remix_mixdown, remix_stem

    remix = job.remix
    project = job.project
    sr = project.sample_rate
    configs = remix_stems_load(remix.stems)
    settings = RemixSettings.from_json(remix.settings)
    styles = _styles_of(job, [c.style for c in configs.values() if c.revoiced])
    beats = _beats(job) if settings.snap_to_beats else None
    stems = {s.kind: s for s in project.stems.all()}
    heard = [kind for kind, config in configs.items() if config.enabled and kind in stems]
    revoiced = [kind for kind in heard if configs[kind].revoiced]
    if not revoiced:
        raise IsoMixError(
            gettext("Nothing to remix: every stem chosen for a style sound is switched off."),
            code=ErrorCode.INVALID_INPUT,
        )
    limit_s = project.duration_s + 1.0
    mix: np.ndarray | None = None
    files: list[StemFiles] = []
    with work_dir(kind=WorkDirKind.REMIX) as tmpdir:
        out_dir = Path(tmpdir)
        for number, kind in enumerate(heard):
            config = configs[kind]
            progress.update("revoice", number / len(heard))
            with storage_local_copy(stems[kind].file_key) as path:
                audio = decode_audio(path=path, sr=sr, max_duration_s=limit_s)
            if config.revoiced:
                library = grain_library_load(styles[config.style])
                done = number / len(heard)
                step = progress.callback("revoice")
                audio = remix_stem(
                    audio=audio, sr=sr, library=library, settings=settings, kind=kind, wet=config.wet,
                    beats_s=beats, progress=lambda f, done=done, step=step: step(done + f / len(heard)),
                )  # fmt: skip
                del library
                files.append(stem_write(kind=kind, audio=audio, sr=sr, out_dir=out_dir))
            audio *= np.float32(db_to_gain(config.gain_db))
            if mix is None:
                mix = audio
            else:
                n = min(mix.shape[1], audio.shape[1])
                mix[:, :n] += audio[:, :n]
            del audio
        progress.update("mix", 0.0)
        mixed = remix_mixdown(stems={"mix": mix}, gains_db={"mix": 0.0}, sr=sr)
        del mix
        mix_path = write_flac(path=out_dir / "remix.flac", audio=mixed, sr=sr)
        del mixed
        progress.update("store", 0.0)
        remix_files_save(remix=remix, stems=files, mix=mix_path)


_REMIX_STAGES = [("decode", 5), ("revoice", 80), ("mix", 10), ("store", 5)]


@isomix_actor(queue=Queue.CPU, time_limit_s=30 * 60)
def remix_song(job_id: str) -> None:
    run_job(job_id, _remix, _REMIX_STAGES)


@isomix_actor(queue=Queue.CPU_PRIORITY, time_limit_s=30 * 60, priority=PRIORITY_FIRST)
def remix_song_priority(job_id: str) -> None:
    run_job(job_id, _remix, _REMIX_STAGES)


ACTORS = {
    (Job.Kind.STYLE, False): style_grains,
    (Job.Kind.STYLE, True): style_grains,
    (Job.Kind.REMIX, False): remix_song,
    (Job.Kind.REMIX, True): remix_song_priority,
}

TRANSIENT_MESSAGES = {
    Job.Kind.STYLE: _("The grains of this sound could not be made. Please try again later; our team has the details."),
    Job.Kind.REMIX: _("The remix failed. Your song and its stems are fine; please try again later."),
}
ENGINE_MESSAGES = {
    Job.Kind.STYLE: _("This sound could not be cut into grains. Our team has the details."),
    Job.Kind.REMIX: _("The remix could not be made from this song. Your stems are fine; our team has the details."),
}
