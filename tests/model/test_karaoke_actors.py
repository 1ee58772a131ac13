"""The karaoke jobs: what follows a separation, the analysis and lyrics actors, and their failures."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile

from business.models import UsageRecord
from domain.models import Analysis, Job, Lyrics, Project, Stem
from model.actors import separate_stems
from model.actors.karaoke import analyse_song, lyrics_song
from model.services import project_upload
from tests.factories import plan_update, user_create
from tests.speech import click_track, spoken_line

pytestmark = pytest.mark.django_db

SR = 44100


@pytest.fixture(autouse=True)
def _queues_empty(empty_broker):
    return empty_broker


def _wav(mono: np.ndarray) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([mono, mono], axis=1) * 0.6, SR, format="WAV", subtype="PCM_16")
    return SimpleUploadedFile("song.wav", buffer.getvalue())


def _separated(owner, mono: np.ndarray) -> Project:
    project = project_upload(owner=owner, upload=_wav(mono))
    separate_stems.fn(str(project.jobs.get().id))
    project.refresh_from_db()
    assert project.status == Project.Status.READY
    return project


def _job(project: Project, kind: str) -> Job:
    return Job.objects.filter(project=project, kind=kind).latest("created_at")


def test_a_separation_is_followed_by_its_analysis_and_its_lyrics(media, settings):
    settings.ISOMIX_LYRICS_AUTO = True
    owner = user_create()

    project = _separated(owner, click_track(bpm=120, duration_s=6.0, sr=SR))

    assert sorted(project.jobs.values_list("kind", "state")) == [
        ("analyse", "queued"), ("lyrics", "queued"), ("separate", "done"),
    ]  # fmt: skip
    assert UsageRecord.objects.filter(account__user=owner, metric=UsageRecord.Metric.LYRICS).count() == 1
    assert _job(project, Job.Kind.LYRICS).params["text"] == ""


def test_with_the_allowance_used_up_the_song_gets_its_analysis_and_no_transcription(media, settings):
    settings.ISOMIX_LYRICS_AUTO = True
    plan_update("free", lyrics_per_month=0)

    project = _separated(user_create(), click_track(bpm=120, duration_s=4.0, sr=SR))

    assert sorted(project.jobs.values_list("kind", flat=True)) == ["analyse", "separate"]


def test_the_analysis_job_finds_the_tempo_and_meter_of_a_click_track(media):
    project = _separated(user_create(), click_track(bpm=120, duration_s=12.0, sr=SR, accent_every=4))
    job = _job(project, Job.Kind.ANALYSE)

    analyse_song.fn(str(job.id))

    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.error
    assert (job.progress, job.duration_s > 0) == (100, True)
    analysis = Analysis.objects.get(project=project)
    assert abs(analysis.tempo_bpm - 120) < 2.4
    assert analysis.time_signature == "4/4"
    assert len(analysis.beats) >= 20
    assert np.allclose(np.diff(analysis.beats).mean(), 0.5, atol=0.02)
    assert analysis.loudness_lufs < 0 and analysis.peak_dbfs <= 0.0


def test_a_failed_lyrics_job_says_why_gives_its_allowance_back_and_leaves_the_stems(media, settings):
    settings.ISOMIX_LYRICS_AUTO = True
    owner = user_create()
    project = _separated(owner, click_track(bpm=90, duration_s=4.0, sr=SR))
    job = _job(project, Job.Kind.LYRICS)
    settings.ISOMIX_WHISPER_MODEL_DIR = str(media / "no-model-here")  # a model folder that is not there

    lyrics_song.fn(str(job.id))

    job.refresh_from_db()
    project.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.attempts == 1  # a missing model is not retried
    assert job.user_error.startswith("The lyrics engine could not process this song.")
    assert project.status == Project.Status.READY
    assert Stem.objects.filter(project=project).count() == 4
    records = UsageRecord.objects.filter(account__user=owner, metric=UsageRecord.Metric.LYRICS)
    assert list(records.values_list("state", flat=True)) == [UsageRecord.State.RELEASED]
    assert not Lyrics.objects.filter(project=project).exists()


def test_the_lyrics_job_aligns_the_users_words_to_the_song(media):
    voice, placed = spoken_line("the night is young and so are we".split(), language="en", sr=SR, start_s=1.0)
    project = _separated(user_create(), voice + 0.3 * click_track(bpm=96, duration_s=len(voice) / SR, sr=SR))
    from model.services import lyrics_start

    job = lyrics_start(project=project, user=project.owner, text="The night is young\nand so are we", language="en")

    lyrics_song.fn(str(job.id))

    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.error
    lyrics = Lyrics.objects.get(project=project)
    assert (lyrics.source, lyrics.language, lyrics.version) == ("aligned", "en", 1)
    assert [line["text"] for line in lyrics.lines] == ["The night is young", "and so are we"]
    starts = [w["start"] for line in lyrics.lines for w in line["words"]]
    errors = [abs(s - truth.start) for s, truth in zip(starts, placed, strict=True)]
    assert max(errors) < 0.3, errors


class _HearsNothing:
    """A lyrics engine on a song with no voice: the guards dropped every segment."""

    model_name = "whisper-test"

    def transcribe(self, audio, *, language=None, languages=None, progress=None):
        from model.pipelines.lyrics.types import Transcript

        return Transcript(language="en", language_probability=0.4, lines=[])


def test_a_transcription_that_hears_no_word_fails_in_plain_words_and_is_not_retried(media, settings, monkeypatch):
    settings.ISOMIX_LYRICS_AUTO = True
    owner = user_create()
    project = _separated(owner, click_track(bpm=90, duration_s=4.0, sr=SR))
    job = _job(project, Job.Kind.LYRICS)
    monkeypatch.setattr("model.actors.karaoke.whisper_engine", _HearsNothing)

    lyrics_song.fn(str(job.id))

    job.refresh_from_db()
    assert (job.state, job.attempts) == (Job.State.FAILED, 1)
    assert job.user_error.startswith("No sung words were heard in this song.")
    assert not Lyrics.objects.filter(project=project).exists()
    records = UsageRecord.objects.filter(account__user=owner, metric=UsageRecord.Metric.LYRICS)
    assert list(records.values_list("state", flat=True)) == [UsageRecord.State.RELEASED]


class _HearsALine:
    """A lyrics engine that hears one line, with a unit Whisper keeps together and a long "Oooo"."""

    model_name = "whisper-test"

    heard: list[np.ndarray] = []

    def __init__(self, text="rock & roll " + "o" * 100):
        self.text = text

    def transcribe(self, audio, *, language=None, languages=None, progress=None):
        from model.pipelines.lyrics.types import Line, Transcript, Word

        self.heard.append(audio)
        words = [Word("rock &", 0.5, 0.9), Word("roll", 1.0, 1.4), Word("o" * 100, 1.5, 2.5)]
        return Transcript(language="en", language_probability=0.9, lines=[Line(0.5, 2.5, self.text, words)])

    def align(self, audio, *, lines, language, progress=None):
        from model.pipelines.lyrics.types import Line, Transcript, Word

        words = [Word(w, 0.5 + 0.4 * i, 0.8 + 0.4 * i) for i, w in enumerate(lines[0].split())]
        line = Line(0.5, words[-1].end, lines[0], words)
        return Transcript(language=language, language_probability=1.0, lines=[line])


def test_words_the_engine_keeps_together_or_too_long_are_stored_as_the_lyrics_allow(media, settings, monkeypatch):
    settings.ISOMIX_LYRICS_AUTO = True
    project = _separated(user_create(), click_track(bpm=90, duration_s=4.0, sr=SR))
    job = _job(project, Job.Kind.LYRICS)
    monkeypatch.setattr("model.actors.karaoke.whisper_engine", _HearsALine)

    lyrics_song.fn(str(job.id))

    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.user_error
    (line,) = Lyrics.objects.get(project=project).lines
    assert [w["word"] for w in line["words"]] == ["rock", "&", "roll", "o" * 64]
    # the "&" hangs on the word before it: it takes that word's end
    assert [(w["start"], w["end"]) for w in line["words"][:2]] == [(0.5, 0.9), (0.9, 0.9)]
    assert line["text"] == "rock & roll " + "o" * 64
    # the transcription heard the vocals with the rest of the song (the clicks) 10 dB under them
    from model.actors.karaoke import _mono_16k, _vocals_16k

    vocals, mix = _vocals_16k(job), _mono_16k(job, project.original_key)
    n = min(vocals.size, mix.size)
    assert np.abs(mix[:n] - vocals[:n]).max() > 0.05  # the clicks are mostly not in the vocals
    expected = vocals[:n] + 10 ** (-10 / 20) * (mix[:n] - vocals[:n])
    np.testing.assert_allclose(_HearsALine.heard[-1], expected, atol=1e-5)


def test_an_older_lyrics_job_that_ends_last_does_not_replace_a_newer_ones_lyrics(media, settings, monkeypatch):
    from model.services import lyrics_start

    # given a song's automatic transcription still queued, and the user's pasted lyrics after it
    settings.ISOMIX_LYRICS_AUTO = True
    project = _separated(user_create(), click_track(bpm=90, duration_s=4.0, sr=SR))
    older = _job(project, Job.Kind.LYRICS)
    newer = lyrics_start(project=project, user=project.owner, text="my own words", language="en")
    monkeypatch.setattr("model.actors.karaoke.whisper_engine", _HearsALine)

    # when the pasted lyrics are aligned first, and the transcription ends after them
    lyrics_song.fn(str(newer.id))
    lyrics_song.fn(str(older.id))

    # then both jobs are done and the user's words are the newest (and only) version
    assert set(Job.objects.filter(pk__in=[older.pk, newer.pk]).values_list("state", flat=True)) == {Job.State.DONE}
    lyrics = Lyrics.objects.get(project=project)
    assert (lyrics.version, lyrics.source) == (1, "aligned")
    assert [w["word"] for w in lyrics.lines[0]["words"]] == ["my", "own", "words"]
