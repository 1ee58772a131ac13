"""End to end through the real worker: upload → stems → analysis → transcribed lyrics → the
user's lyrics aligned, each its own job; with the real analysis and the real Whisper model."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from domain.models import Job
from tests.e2e.test_worker_flow import _wait, worker  # noqa: F401  (the worker fixture)
from tests.factories import user_create
from tests.speech import click_track, spoken_line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

SR = 44100
WORDS = "hello my friend come and sing along with me tonight".split()
BPM = 100.0


def _song() -> tuple[bytes, list]:
    """A spoken line over a click track at ``BPM`` (accent every 4 beats), as a stereo WAV."""
    voice, placed = spoken_line(WORDS, language="en", sr=SR, start_s=2.0)
    duration_s = max(12.0, len(voice) / SR + 1.0)
    clicks = click_track(bpm=BPM, duration_s=duration_s, sr=SR)
    mix = clicks.copy()
    mix[: len(voice)] += 0.9 * voice[: len(mix)]
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([mix, mix], axis=1) * 0.6, SR, format="WAV", subtype="PCM_16")
    return buffer.getvalue(), placed


def test_a_song_gets_its_analysis_then_its_lyrics_then_the_users_words_aligned(worker, media, settings):  # noqa: F811
    settings.ISOMIX_LYRICS_AUTO = True
    client = APIClient()
    client.force_authenticate(user_create())
    wav, placed = _song()

    response = client.post("/api/v1/projects/", {"file": SimpleUploadedFile("line.wav", wav)})
    assert response.status_code == 202, response.content
    project_id = response.json()["id"]

    # Then the separation, the analysis and the transcription are three jobs, each done
    def finished(kind):
        body = client.get(f"/api/v1/projects/{project_id}/").json()
        jobs = [j for j in body["jobs"] if j["kind"] == kind]
        return jobs and jobs[-1]["state"] in ("done", "failed") and jobs[-1]

    assert _wait(lambda: finished("separate"), timeout_s=180, what="the separation")["state"] == "done"
    analysis_job = _wait(lambda: finished("analyse"), timeout_s=120, what="the analysis")
    assert analysis_job["state"] == "done", analysis_job
    lyrics_job = _wait(lambda: finished("lyrics"), timeout_s=300, what="the transcription")
    assert lyrics_job["state"] == "done", lyrics_job
    assert lyrics_job["duration_s"] > 0

    analysis = client.get(f"/api/v1/projects/{project_id}/analysis/").json()
    assert analysis["status"] == "done"
    assert abs(analysis["tempo_bpm"] - BPM) / BPM < 0.04
    assert analysis["time_signature"] in ("2/4", "3/4", "4/4", "6/8")  # the meter's accuracy is the bench's row
    lyrics = client.get(f"/api/v1/projects/{project_id}/lyrics/").json()
    assert (lyrics["status"], lyrics["source"], lyrics["language"]) == ("done", "transcribed", "en")
    heard = " ".join(w["word"] for line in lyrics["lines"] for w in line["words"]).lower()
    assert "friend" in heard and "sing" in heard, heard

    # When the user pastes the words
    put = client.put(
        f"/api/v1/projects/{project_id}/lyrics/",
        {"text": "Hello my friend\ncome and sing along with me tonight", "language": "en"},
        format="json",
    )
    assert put.status_code == 202, put.content
    _wait(
        lambda: Job.objects.filter(project_id=project_id, kind=Job.Kind.LYRICS, state=Job.State.DONE).count() == 2,
        timeout_s=300,
        what="the alignment",
    )

    # Then the lines are theirs, and each word starts near where it was spoken
    aligned = client.get(f"/api/v1/projects/{project_id}/lyrics/").json()
    assert aligned["source"] == "aligned"
    assert [line["text"] for line in aligned["lines"]] == ["Hello my friend", "come and sing along with me tonight"]
    words = [w for line in aligned["lines"] for w in line["words"]]
    assert [w["word"] for w in words] == ["Hello", *WORDS[1:]]
    errors = [abs(w["start"] - truth.start) for w, truth in zip(words, placed, strict=True)]
    assert max(errors) < 0.5, errors
    assert [v["source"] for v in aligned["versions"]] == ["transcribed", "aligned"]
