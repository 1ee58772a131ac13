"""The karaoke API: a song's analysis, its lyrics (align, edit, versions, downloads), the bundle."""

from __future__ import annotations

import io
import zipfile

import pytest

from business.models import UsageRecord
from domain.lyrics import LyricsDoc
from domain.models import Export, Job, Lyrics, LyricsVersion, Project
from domain.services import analysis_save, lyrics_save
from model.actors import export_mix
from tests.factories import plan_update, project_create_ready, user_create
from tests.helpers import signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_broker")]

LINES = [
    {"start": 0.5, "end": 1.5, "text": "Hello my friend",
     "words": [{"word": "Hello", "start": 0.5, "end": 0.8}, {"word": "my", "start": 0.9, "end": 1.0},
               {"word": "friend", "start": 1.1, "end": 1.5}]},
    {"start": 2.5, "end": 3.5, "text": "Sing along",
     "words": [{"word": "Sing", "start": 2.5, "end": 2.9}, {"word": "along", "start": 3.0, "end": 3.5}]},
]  # fmt: skip

ANALYSIS = {
    "tempo_bpm": 120.0, "beats": [0.5, 1.0, 1.5, 2.0], "downbeats": [0.5], "time_signature": "4/4",
    "key": "A minor", "key_confidence": 0.8, "loudness_lufs": -12.5, "peak_dbfs": -1.0,
}  # fmt: skip


@pytest.fixture
def project(user) -> Project:
    return project_create_ready(owner=user, duration_s=4.0)


def _saved_lyrics(project: Project, lines=LINES) -> Lyrics:
    doc = LyricsDoc.from_json(lines, duration_s=project.duration_s)
    return lyrics_save(project=project, doc=doc, source=Lyrics.Source.ALIGNED, language="en", model_name="whisper-base")


def _lyrics_jobs(project: Project):
    return Job.objects.filter(project=project, kind=Job.Kind.LYRICS)


def _lyrics_usage(user) -> int:
    return UsageRecord.objects.filter(account__user=user, metric=UsageRecord.Metric.LYRICS).count()


# ---------------------------------------------------------------- analysis


def test_the_analysis_is_empty_until_its_job_ran_then_says_what_it_found(client, project):
    url = f"/api/v1/projects/{project.id}/analysis/"
    before = client.get(url).json()
    assert before["status"] == "none"
    assert (before["tempo_bpm"], before["key"], before["beats"]) == (None, None, [])

    Job.objects.create(project=project, kind=Job.Kind.ANALYSE, state=Job.State.DONE, progress=100)
    analysis_save(project=project, result=ANALYSIS, engine="test")
    after = client.get(url).json()

    assert after["status"] == "done"
    assert after["tempo_bpm"] == 120.0
    assert after["time_signature"] == "4/4"
    assert after["key"] == "A minor"
    assert after["beats"] == [0.5, 1.0, 1.5, 2.0]
    assert after["downbeats"] == [0.5]
    assert (after["loudness_lufs"], after["peak_dbfs"]) == (-12.5, -1.0)


def test_a_failed_analysis_says_why_in_plain_words(client, project):
    Job.objects.create(project=project, kind=Job.Kind.ANALYSE, state=Job.State.FAILED, user_error="It broke.")

    body = client.get(f"/api/v1/projects/{project.id}/analysis/").json()

    assert (body["status"], body["error"]) == ("failed", "It broke.")


def test_another_users_analysis_and_lyrics_are_404(project):
    stranger = signed_in(user_create())
    _saved_lyrics(project)
    for path in ("analysis/", "lyrics/", "lyrics/?format=lrc"):
        assert stranger.get(f"/api/v1/projects/{project.id}/{path}").status_code == 404, path
    response = stranger.put(f"/api/v1/projects/{project.id}/lyrics/", {"text": "la la"}, format="json")
    assert response.status_code == 404
    response = stranger.patch(f"/api/v1/projects/{project.id}/lyrics/", {"lines": LINES}, format="json")
    assert response.status_code == 404
    assert not _lyrics_jobs(project).exists()
    assert Lyrics.objects.get(project=project).version == 1


# ---------------------------------------------------------------- asking for lyrics


def test_pasted_lyrics_queue_an_alignment_that_takes_one_of_the_plans_lyrics(
    client, user, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(
            f"/api/v1/projects/{project.id}/lyrics/",
            {"text": "Hello my friend\nSing along", "language": "en"},
            format="json",
        )

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    job = _lyrics_jobs(project).get()
    assert job.params == {"text": "Hello my friend\nSing along", "language": "en", "filename": ""}
    assert _lyrics_usage(user) == 1
    assert job.enqueued_at is not None  # its message reached the broker once the request committed


def test_no_text_asks_for_a_transcription(client, project):
    response = client.put(f"/api/v1/projects/{project.id}/lyrics/", {"text": ""}, format="json")

    assert response.status_code == 202
    assert _lyrics_jobs(project).get().params["text"] == ""


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": "a\x07b"}, "invalid_lyrics"),
        ({"text": "a\x00b"}, "invalid_input"),
        ({"text": "x " * 20_001}, "invalid_input"),
        ({"text": "la la", "language": "x" * 9}, "invalid_input"),
        ({"text": "la la", "language": "xx"}, "invalid_input"),
        ({"text": 12}, "invalid_input"),
        ({"text": ["la"]}, "invalid_input"),
        ({}, "invalid_input"),
    ],
    ids=[
        "control character",
        "null character",
        "too long",
        "language too long",
        "unknown language",
        "number",
        "list",
        "nothing",
    ],
)
def test_bad_lyrics_are_refused_and_leave_no_job_and_no_usage(client, user, project, body, code):
    response = client.put(f"/api/v1/projects/{project.id}/lyrics/", body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert not _lyrics_jobs(project).exists()
    assert _lyrics_usage(user) == 0


def test_the_plans_karaoke_allowance_used_up_is_a_402_and_nothing_is_queued(client, user, project):
    plan_update("free", lyrics_per_month=1)
    assert client.put(f"/api/v1/projects/{project.id}/lyrics/", {"text": "one"}, format="json").status_code == 202

    response = client.put(f"/api/v1/projects/{project.id}/lyrics/", {"text": "two"}, format="json")

    assert response.status_code == 402
    assert response.json()["code"] == "quota_exceeded"
    assert _lyrics_jobs(project).count() == 1
    assert _lyrics_usage(user) == 1


def test_lyrics_wait_for_the_stems(client, project):
    Project.objects.filter(id=project.id).update(status=Project.Status.PROCESSING)

    response = client.put(f"/api/v1/projects/{project.id}/lyrics/", {"text": "la la"}, format="json")

    assert response.status_code == 409
    assert not _lyrics_jobs(project).exists()


# ---------------------------------------------------------------- editing, versions


def test_an_edit_is_a_new_version_and_the_old_one_is_kept(client, project):
    _saved_lyrics(project)
    edited = [dict(LINES[0]), LINES[1]]
    edited[0] = {**LINES[0], "text": "Hello my friends",
                 "words": [*LINES[0]["words"][:2], {"word": "friends", "start": 1.1, "end": 1.5}]}  # fmt: skip

    response = client.patch(f"/api/v1/projects/{project.id}/lyrics/", {"lines": edited, "version": 1}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["version"], body["source"]) == (2, "edited")
    assert body["lines"][0]["text"] == "Hello my friends"
    assert [v["source"] for v in body["versions"]] == ["aligned", "edited"]
    first = client.get(f"/api/v1/projects/{project.id}/lyrics/?version=1").json()
    assert first["lines"][0]["text"] == "Hello my friend"


def test_only_the_newest_versions_are_kept_and_listed_without_their_lines(client, project):
    from domain.services.karaoke import VERSIONS_KEPT

    for _ in range(VERSIONS_KEPT + 3):
        _saved_lyrics(project)

    numbers = list(LyricsVersion.objects.filter(lyrics__project=project).values_list("number", flat=True))
    assert sorted(numbers) == list(range(4, VERSIONS_KEPT + 4))
    body = client.get(f"/api/v1/projects/{project.id}/lyrics/").json()
    assert [v["number"] for v in body["versions"]] == list(range(4, VERSIONS_KEPT + 4))
    assert client.get(f"/api/v1/projects/{project.id}/lyrics/?version=3").status_code == 404
    assert client.get(f"/api/v1/projects/{project.id}/lyrics/?version=4").status_code == 200
    # the list reads each version's number, source and date, never its copy of the lines
    from domain.selectors import lyrics_for_project

    listed = lyrics_for_project(project=project).versions.all()
    assert all("lines" in version.get_deferred_fields() for version in listed)


def test_an_edit_must_say_which_version_it_was_made_from(client, project):
    _saved_lyrics(project)

    response = client.patch(f"/api/v1/projects/{project.id}/lyrics/", {"lines": LINES}, format="json")

    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["version"]
    assert Lyrics.objects.get(project=project).version == 1


def test_an_edit_from_an_older_version_is_a_409_and_changes_nothing(client, project):
    _saved_lyrics(project)
    _saved_lyrics(project)  # a re-run finished meanwhile: version 2

    response = client.patch(f"/api/v1/projects/{project.id}/lyrics/", {"lines": LINES, "version": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "lyrics_conflict"
    assert response.json()["extra"]["version"] == 2
    assert LyricsVersion.objects.filter(lyrics__project=project).count() == 2


@pytest.mark.parametrize(
    "lines",
    [
        "not a list",
        [{"start": 2.0, "end": 1.0, "text": "x", "words": [{"word": "x", "start": 2.0, "end": 1.0}]}],
        [{"start": "0", "end": 1.0, "text": "x", "words": [{"word": "x", "start": 0.0, "end": 1.0}]}],
        [{"start": 0.0, "end": 99.0, "text": "x", "words": [{"word": "x", "start": 0.0, "end": 99.0}]}],
        [{"start": True, "end": 1.0, "text": "x", "words": [{"word": "x", "start": 0.0, "end": 1.0}]}],
        [[[[[]]]]],
        [],
        None,
    ],
    ids=["string", "end before start", "time as text", "past the song", "boolean", "nested junk", "none", "null"],
)
def test_hostile_lines_are_a_400_and_change_nothing(client, project, lines):
    _saved_lyrics(project)

    response = client.patch(f"/api/v1/projects/{project.id}/lyrics/", {"lines": lines, "version": 1}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == ("invalid_input" if lines is None else "invalid_lyrics")
    assert Lyrics.objects.get(project=project).version == 1
    assert LyricsVersion.objects.filter(lyrics__project=project).count() == 1


def test_a_first_edit_with_no_line_is_a_400_and_saves_nothing(client, project):
    response = client.patch(
        f"/api/v1/projects/{project.id}/lyrics/", {"lines": [], "version": 0, "language": "de"}, format="json"
    )

    assert response.status_code == 400, response.content
    assert (response.json()["code"], response.json()["extra"]["field"]) == ("invalid_lyrics", "lines")
    assert not Lyrics.objects.filter(project=project).exists()


# ---------------------------------------------------------------- downloads


@pytest.mark.parametrize(
    ("fmt", "filename", "first"),
    [
        ("lrc", "lyrics.lrc", None),
        ("lrc-words", "lyrics-words.lrc", None),
        ("srt", "lyrics.srt", "1"),
        ("vtt", "lyrics.vtt", "WEBVTT"),
        ("json", "lyrics.json", None),
    ],
)
def test_the_lyrics_download_in_each_format(client, project, fmt, filename, first):
    Project.objects.filter(id=project.id).update(name="Águas de Março")
    _saved_lyrics(project)

    response = client.get(f"/api/v1/projects/{project.id}/lyrics/?format={fmt}")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="aguas-de-marco-{filename}"'
    text = response.content.decode()
    assert "Hello" in text and "along" in text
    if first is not None:
        assert text.splitlines()[0] == first


def test_a_download_in_an_unknown_format_or_before_lyrics_is_refused(client, project):
    assert client.get(f"/api/v1/projects/{project.id}/lyrics/?format=lrc").status_code == 409
    _saved_lyrics(project)
    response = client.get(f"/api/v1/projects/{project.id}/lyrics/?format=docx")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert client.get(f"/api/v1/projects/{project.id}/lyrics/?version=x").status_code == 400
    assert client.get(f"/api/v1/projects/{project.id}/lyrics/?version=9").status_code == 404


@pytest.mark.parametrize("version", ["0", "-1", "²", "1.5", "1234567890"])
def test_a_version_that_is_not_a_whole_number_from_1_is_a_400(client, project, version):
    _saved_lyrics(project)

    response = client.get(f"/api/v1/projects/{project.id}/lyrics/", {"version": version})

    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["version"]


def test_a_version_of_lyrics_that_do_not_exist_yet_is_a_404(client, project):
    assert client.get(f"/api/v1/projects/{project.id}/lyrics/?version=1").status_code == 404


# ---------------------------------------------------------------- the karaoke bundle


def test_the_karaoke_bundle_holds_the_mix_and_the_lyrics_under_one_name(client, project):
    Project.objects.filter(id=project.id).update(name="Águas de Março")
    _saved_lyrics(project)

    response = client.post(
        f"/api/v1/projects/{project.id}/exports/", {"format": "karaoke", "stems": {"vocals": {"mute": True}}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 202, response.content
    export = Export.objects.get(id=response.json()["id"])
    assert export.bitrate_kbps == 192
    export_mix(str(export.job_id))

    export.refresh_from_db()
    assert export.job.state == Job.State.DONE
    assert export.filename == "aguas-de-marco-instrumental.zip"
    from django.core.files.storage import default_storage

    with default_storage.open(export.file_key) as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as bundle:
        names = sorted(bundle.namelist())
        lrc = bundle.read("aguas-de-marco-instrumental.lrc").decode()
        mp3 = bundle.read("aguas-de-marco-instrumental.mp3")
    assert names == [
        "aguas-de-marco-instrumental-words.lrc", "aguas-de-marco-instrumental.lrc", "aguas-de-marco-instrumental.mp3",
    ]  # fmt: skip
    assert "Hello my friend" in lrc
    assert mp3[:3] == b"ID3" or mp3[0] == 0xFF


def test_no_karaoke_bundle_without_lyrics(client, project):
    response = client.post(f"/api/v1/projects/{project.id}/exports/", {"format": "karaoke"}, format="json")

    assert response.status_code == 409
    assert not Export.objects.filter(project=project).exists()
