"""The S3 path: files live in the bucket, downloads are presigned, deletes clean up."""

from __future__ import annotations

import io
import urllib.request

import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from domain.housekeeping import storage_orphans_delete
from domain.mix import MixSettings
from domain.models import Project
from model.actors import export_mix
from model.services import export_start
from tests.audio import write_song
from tests.factories import pro_user_create, project_create_ready, user_create
from tests.helpers import stored_files
from tests.s3.conftest import bucket_keys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_broker")]


def test_upload_stores_the_original_in_the_bucket(s3, media, tmp_path):
    client = APIClient()
    client.force_authenticate(user_create())
    song = write_song(tmp_path / "song.flac", duration_s=1.0)

    response = client.post("/api/v1/projects/", {"file": SimpleUploadedFile("song.flac", song.read_bytes())})

    assert response.status_code == 202, response.content
    assert bucket_keys(s3) == [f"uploads/{response.json()['id']}/original.flac"]
    assert stored_files(media) == []  # nothing on local disk


def test_bad_upload_leaves_the_bucket_empty(s3, tmp_path):
    client = APIClient()
    client.force_authenticate(user_create())

    response = client.post("/api/v1/projects/", {"file": SimpleUploadedFile("x.mp3", b"\x00" * 5000)})

    assert response.status_code == 400
    assert bucket_keys(s3) == []
    assert Project.objects.count() == 0


def test_stem_download_is_a_presigned_url_that_works(s3):
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    client = APIClient()
    client.force_authenticate(owner)

    response = client.get(f"/api/v1/projects/{project.id}/stems/drums/")

    assert response.status_code == 302
    url = response["Location"]
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=600" in url
    with urllib.request.urlopen(url, timeout=10) as fetched:
        assert "attachment" in fetched.headers["Content-Disposition"]
        audio, sr = sf.read(io.BytesIO(fetched.read()))
    assert sr == 44100 and audio.shape == (22050, 2)


def test_export_renders_from_and_to_the_bucket(s3):
    project = project_create_ready(owner=pro_user_create(), duration_s=0.5)
    export = export_start(project=project, fmt="wav", mix=MixSettings())

    export_mix.fn(str(export.job_id))

    assert f"exports/{export.id}.wav" in bucket_keys(s3)


def test_deleting_a_project_empties_its_keys(s3, django_capture_on_commit_callbacks):
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    assert len(bucket_keys(s3)) == 9
    client = APIClient()
    client.force_authenticate(owner)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/projects/{project.id}/").status_code == 204

    assert bucket_keys(s3) == []


def test_orphans_in_the_bucket_are_found(s3):
    project = project_create_ready(owner=user_create(), duration_s=0.5)
    s3.put_object(Bucket="isomix-test", Key="stems/gone/vocals.flac", Body=b"left behind")

    deleted = storage_orphans_delete(older_than_s=0)

    assert deleted == ["stems/gone/vocals.flac"]
    assert project.original_key in bucket_keys(s3)
