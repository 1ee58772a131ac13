"""The karaoke jobs that follow a separation: the song's analysis (cpu) and its lyrics (gpu).

Each is its own job with its own steps, progress and time; neither can fail the project: its
stems stay usable, and the failed step says why. librosa and faster-whisper load lazily, inside
the job, so the web process never imports them.
"""

from __future__ import annotations

import logging
import zipfile
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from domain.exceptions import InvalidLyrics
from domain.lyrics import WORD_CHARS_MAX, LyricsDoc, lyrics_render, lyrics_text_parse
from domain.models import Export, Job, Lyrics, StemKind
from domain.services import LYRICS_LANGUAGES, analysis_save, lyrics_save, storage_local_copy
from model.actors import PRIORITY_FIRST, isomix_actor, run_job
from model.pipelines.lyrics.hearing import band_under
from model.pipelines.media import decode_audio
from model.progress import Progress
from model.queues import Queue

logger = logging.getLogger(__name__)

#: Whisper hears 16 kHz mono.
WHISPER_SR = 16_000
#: What the analysis engine is recorded as (the pipeline's own beat, meter and key estimation).
ANALYSIS_ENGINE = "isomix-analysis-1"


# ---------------------------------------------------------------- analysis


def _analyse(job: Job, progress: Progress) -> None:
    from model.pipelines.analysis import analyse

    project = job.project
    stems = {stem.kind: stem for stem in project.stems.all()}
    limit_s = project.duration_s + 1.0
    with ExitStack() as stack:
        mix_path = stack.enter_context(storage_local_copy(project.original_key))
        mix = decode_audio(path=mix_path, sr=project.sample_rate, max_duration_s=limit_s)
        drums = None
        if StemKind.DRUMS in stems:
            drums_path = stack.enter_context(storage_local_copy(stems[StemKind.DRUMS].file_key))
            drums = decode_audio(path=drums_path, sr=project.sample_rate, max_duration_s=limit_s)
    progress.update("analyse", 0.0)
    result = analyse(mix=mix, sr=project.sample_rate, drums=drums, progress=progress.callback("analyse"))
    del mix, drums
    progress.update("store", 0.0)
    analysis_save(project=project, result=result.to_json(), engine=ANALYSIS_ENGINE)


_ANALYSE_STAGES = [("decode", 30), ("analyse", 65), ("store", 5)]


@isomix_actor(queue=Queue.CPU, time_limit_s=15 * 60)
def analyse_song(job_id: str) -> None:
    run_job(job_id, _analyse, _ANALYSE_STAGES)


@isomix_actor(queue=Queue.CPU_PRIORITY, time_limit_s=15 * 60, priority=PRIORITY_FIRST)
def analyse_song_priority(job_id: str) -> None:
    run_job(job_id, _analyse, _ANALYSE_STAGES)


def analysis_warm_up() -> None:
    """Compile librosa's numba paths once, at worker start, not on the first song's job."""
    from model.pipelines.analysis import warm_up

    warm_up()


# ---------------------------------------------------------------- lyrics


def whisper_engine():
    """The worker's Whisper engine (loaded once per process), as the settings choose it."""
    from model.engines.whisper_engine import whisper_engine_get

    return whisper_engine_get(
        model_dir=settings.ISOMIX_WHISPER_MODEL_DIR,
        cache_dir=settings.ISOMIX_WHISPER_CACHE_DIR,
        device=settings.ISOMIX_WHISPER_DEVICE,
        compute_type=settings.ISOMIX_WHISPER_COMPUTE_TYPE,
    )


def _vocals_key(job: Job) -> str:
    """The vocals stem's file, or the original's for a song that has none."""
    vocals = job.project.stems.filter(kind=StemKind.VOCALS).first()
    return vocals.file_key if vocals is not None else job.project.original_key


def _vocals_16k(job: Job) -> np.ndarray:
    return _mono_16k(job, _vocals_key(job))


def _mono_16k(job: Job, key: str) -> np.ndarray:
    with storage_local_copy(key) as path:
        stereo = decode_audio(path=path, sr=WHISPER_SR, max_duration_s=job.project.duration_s + 1.0)
    return stereo.mean(axis=0).astype(np.float32)


def _lyrics(job: Job, progress: Progress) -> None:
    project = job.project
    params = job.params or {}
    vocals_key = _vocals_key(job)
    audio = _mono_16k(job, vocals_key)
    progress.update("load", 0.0)
    engine = whisper_engine()
    text = params.get("text") or ""
    language = params.get("language") or ""
    if text:
        lines = lyrics_text_parse(text=text, filename=params.get("filename") or "")
        if not language:
            progress.update("language", 0.0)
            language, _probability = engine.detect_language(audio, languages=LYRICS_LANGUAGES)
        progress.update("align", 0.0)
        transcript = engine.align(audio, lines=lines, language=language, progress=progress.callback("align"))
        source = Lyrics.Source.ALIGNED
    else:
        # Transcription hears the vocals with the rest of the song 10 dB under them (hearing.py);
        # a song with no vocals stem is heard as it is (the original is decoded once).
        if vocals_key != project.original_key:
            audio = band_under(audio, _mono_16k(job, project.original_key))
        progress.update("transcribe", 0.0)
        # Detection picks among the languages a user can choose: a song Whisper hears as Thai or
        # Latin (as it hears unclear Portuguese) would get lyrics in a language the page cannot offer.
        transcript = engine.transcribe(
            audio, language=language or None, languages=LYRICS_LANGUAGES, progress=progress.callback("transcribe")
        )
        source = Lyrics.Source.TRANSCRIBED
    del audio
    if not transcript.lines:
        message = _("No sung words were heard in this song. If it has lyrics, paste them to have them timed.")
        raise InvalidLyrics(str(message), field="text")
    progress.update("store", 0.0)
    doc = LyricsDoc.from_json(_as_doc_lines(transcript.to_json()["lines"]), duration_s=project.duration_s)
    if Job.objects.filter(
        project=project, kind=Job.Kind.LYRICS, state=Job.State.DONE, created_at__gt=job.created_at
    ).exists():
        # A lyrics job started after this one has already saved: its words (the user's pasted
        # lyrics, say) stay the newest version, rather than this older job's.
        logger.info("lyrics job %s superseded by a newer one; its result is not saved", job.id)
        return
    lyrics_save(project=project, doc=doc, source=source, language=transcript.language, model_name=engine.model_name)


def _as_doc_lines(lines: list[dict]) -> list[dict]:
    """The engine's lines as the lyrics document takes them: a unit the engine kept together
    ("rock &", a dash Whisper wrote between words) becomes one word per piece, each piece without
    letters timed at the edge of the word it hangs on, and a word longer than the document allows
    (a sung "Ooooo…") is cut to that length."""
    out = []
    for line in lines:
        words = []
        for unit in line["words"]:
            pieces = unit["word"].split()
            lead = next((i for i, piece in enumerate(pieces) if any(ch.isalnum() for ch in piece)), 0)
            for i, piece in enumerate(pieces):
                start = unit["start"] if i <= lead else unit["end"]
                end = unit["end"] if i >= lead else unit["start"]
                words.append({"word": piece[:WORD_CHARS_MAX], "start": start, "end": end})
        if words:
            out.append({"start": line["start"], "end": line["end"], "words": words})
    return out


def _lyrics_stages(job: Job) -> list[tuple[str, float]]:
    if (job.params or {}).get("text"):
        return [("decode", 5), ("load", 5), ("language", 5), ("align", 80), ("store", 5)]
    return [("decode", 5), ("load", 5), ("transcribe", 85), ("store", 5)]


_LYRICS_TIME_LIMIT_S = 30 * 60


@isomix_actor(queue=Queue.GPU, time_limit_s=_LYRICS_TIME_LIMIT_S)
def lyrics_song(job_id: str) -> None:
    run_job(job_id, _lyrics, _lyrics_stages)


@isomix_actor(queue=Queue.GPU_PRIORITY, time_limit_s=_LYRICS_TIME_LIMIT_S, priority=PRIORITY_FIRST)
def lyrics_song_priority(job_id: str) -> None:
    run_job(job_id, _lyrics, _lyrics_stages)


# ---------------------------------------------------------------- the karaoke bundle (an export)


def bundle_write(*, export: Export, mix_path: Path, out: Path) -> Path:
    """The karaoke bundle: the rendered mix and the lyrics as LRC under one name, as players pair
    them (``song.mp3`` + ``song.lrc``), and the word-timed LRC beside them."""
    project = export.project
    lyrics = Lyrics.objects.get(project=project)
    doc = LyricsDoc.from_json(lyrics.lines, duration_s=project.duration_s)
    base = export.filename.removesuffix(".zip")
    with zipfile.ZipFile(out, "w") as bundle:
        bundle.write(mix_path, f"{base}.mp3", compress_type=zipfile.ZIP_STORED)  # MP3 does not deflate
        for fmt, name in (("lrc", f"{base}.lrc"), ("lrc-words", f"{base}-words.lrc")):
            content, _type = lyrics_render(doc=doc, fmt=fmt, title=project.name, language=lyrics.language)
            bundle.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return out


ACTORS = {
    (Job.Kind.ANALYSE, False): analyse_song,
    (Job.Kind.ANALYSE, True): analyse_song_priority,
    (Job.Kind.LYRICS, False): lyrics_song,
    (Job.Kind.LYRICS, True): lyrics_song_priority,
}

TRANSIENT_MESSAGES = {
    Job.Kind.ANALYSE: _("The analysis of beats and key failed. Your stems are fine; our team has the details."),
    Job.Kind.LYRICS: _("The lyrics could not be made. Your stems are fine; please try again later."),
}
#: An engine's refusal (a model missing or failing on this song) is final: no retry, and this says so.
ENGINE_MESSAGES = {
    Job.Kind.ANALYSE: _("The analysis of beats and key could not process this song. Your stems are fine."),
    Job.Kind.LYRICS: _("The lyrics engine could not process this song. Your stems are fine; our team has the details."),
}
