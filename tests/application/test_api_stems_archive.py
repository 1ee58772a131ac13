"""``/api/v1/projects/{id}/stems/archive/``: every lossless stem in one zip, streamed in flat memory."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tracemalloc
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from domain.models import Project
from tests.factories import pro_user_create, project_create_ready, user_create
from tests.helpers import signed_in
from tests.s3.conftest import s3, s3_endpoint  # noqa: F401  (fixtures: the S3 server and a bucket)

pytestmark = pytest.mark.django_db

KINDS = ("vocals", "drums", "bass", "other")
#: Stems this large would show in the peak if any were held whole (or the zip were built in memory).
BIG_BYTES = 12 * 1024 * 1024
#: What the streaming may hold at once: a few pieces of 256 KiB and the zip's bookkeeping.
FLAT_BYTES = 3 * 1024 * 1024


@pytest.fixture
def user():
    """A Pro user: what these tests export (WAV, FLAC, 320 kb/s, the stems zip) is Pro's."""
    return pro_user_create()


@pytest.fixture
def project(user) -> Project:
    project = project_create_ready(owner=user, duration_s=1.0)
    Project.objects.filter(id=project.id).update(name="Canção do Mar")
    return Project.objects.get(id=project.id)


def _url(project: Project) -> str:
    return f"/api/v1/projects/{project.id}/stems/archive/"


def _stored_digest(key: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(key, "rb") as fh:
        while piece := fh.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


def _write_pieces(pieces: Iterable[bytes], path: Path) -> int:
    count = 0
    with path.open("wb") as out:
        for piece in pieces:
            assert piece, "an empty piece would end a chunked answer early"
            out.write(piece)
            count += 1
    return count


def _make_stems_big(project: Project, tmp_path: Path) -> None:
    """Replace each stem's stored file with BIG_BYTES of noise (written to the storage in pieces)."""
    for stem in project.stems.all():
        source = tmp_path / f"{stem.kind}.bin"
        with source.open("wb") as fh:
            for _ in range(BIG_BYTES // (1 << 20)):
                fh.write(os.urandom(1 << 20))
        default_storage.delete(stem.file_key)
        with source.open("rb") as fh:
            default_storage.save(stem.file_key, fh)
        source.unlink()


def test_the_archive_holds_every_lossless_stem_under_the_songs_name(client, project, tmp_path):
    response = client.get(_url(project))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="cancao-do-mar-stems.zip"'
    _write_pieces(response.streaming_content, tmp_path / "stems.zip")
    with zipfile.ZipFile(tmp_path / "stems.zip") as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [f"cancao-do-mar-{kind}.flac" for kind in KINDS]
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
        for stem in project.stems.all():
            data = archive.read(f"cancao-do-mar-{stem.kind}.flac")
            assert hashlib.sha256(data).hexdigest() == _stored_digest(stem.file_key)


def _peak_while(consume) -> int:
    tracemalloc.start()
    try:
        consume()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _check_big_archive(path: Path, project: Project) -> None:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        sizes = {i.filename: i.file_size for i in archive.infolist()}
    assert sizes == {f"cancao-do-mar-{kind}.flac": BIG_BYTES for kind in KINDS}


def test_memory_stays_flat_however_large_the_stems(client, project, tmp_path):
    _make_stems_big(project, tmp_path)
    response = client.get(_url(project))

    peak = _peak_while(lambda: _write_pieces(response.streaming_content, tmp_path / "stems.zip"))

    assert peak < FLAT_BYTES, f"{peak / 1e6:.1f} MB held to stream {4 * BIG_BYTES / 1e6:.0f} MB"
    _check_big_archive(tmp_path / "stems.zip", project)


def test_memory_stays_flat_when_served_over_asgi(client, project, tmp_path):
    # uvicorn takes a streaming answer through __aiter__, where Django alone would make a
    # list of every piece of a synchronous iterator before sending the first one.
    _make_stems_big(project, tmp_path)
    response = client.get(_url(project))

    async def send_all() -> None:
        with (tmp_path / "stems.zip").open("wb") as out:
            async for piece in response:
                out.write(piece)

    peak = _peak_while(lambda: asyncio.run(send_all()))

    assert peak < FLAT_BYTES, f"{peak / 1e6:.1f} MB held to stream {4 * BIG_BYTES / 1e6:.0f} MB"
    _check_big_archive(tmp_path / "stems.zip", project)


def test_from_s3_the_stems_are_read_as_they_arrive(s3, tmp_path):  # noqa: F811
    owner = pro_user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    Project.objects.filter(id=project.id).update(name="Canção do Mar")
    _make_stems_big(project, tmp_path)
    response = signed_in(owner).get(_url(project))

    peak = _peak_while(lambda: _write_pieces(response.streaming_content, tmp_path / "stems.zip"))

    assert response.status_code == 200
    assert peak < FLAT_BYTES, f"{peak / 1e6:.1f} MB held to stream {4 * BIG_BYTES / 1e6:.0f} MB from S3"
    _check_big_archive(tmp_path / "stems.zip", project)


def test_before_the_stems_exist_the_archive_is_409(client, project):
    Project.objects.filter(id=project.id).update(status=Project.Status.PROCESSING)

    response = client.get(_url(project))

    assert response.status_code == 409
    assert response.json()["code"] == "not_ready"


def test_a_stem_file_gone_is_404_before_any_byte_is_sent(client, project):
    default_storage.delete(project.stems.get(kind="bass").file_key)

    response = client.get(_url(project))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_another_users_archive_is_404(project):
    response = signed_in(user_create()).get(_url(project))

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "extra": {}}


def test_archive_is_not_taken_for_a_stem_kind(client, project):
    # The route sits before stems/<kind>/: "archive" is not a stem, and the stems stay reachable.
    assert client.get(f"/api/v1/projects/{project.id}/stems/vocals/").status_code == 302
    assert client.get(_url(project)).status_code == 200


def test_a_single_stem_download_streams_over_asgi_too(client, project, tmp_path):
    _make_stems_big(project, tmp_path)
    link = client.get(f"/api/v1/projects/{project.id}/stems/vocals/")["Location"]
    response = client.get(link)

    async def send_all() -> int:
        size = 0
        async for piece in response:
            size += len(piece)
        return size

    sizes = []
    peak = _peak_while(lambda: sizes.append(asyncio.run(send_all())))

    assert sizes == [BIG_BYTES]
    assert peak < FLAT_BYTES, f"{peak / 1e6:.1f} MB held to send a {BIG_BYTES / 1e6:.0f} MB stem"


def test_the_zip_of_the_stems_is_pros_free_gets_402_and_no_bytes():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)

    response = signed_in(owner).get(_url(project))

    assert response.status_code == 402
    assert response.json()["code"] == "plan_required"
    assert response.json()["extra"] == {"upgrade_url": "/pricing/"}
    assert not getattr(response, "streaming", False)
