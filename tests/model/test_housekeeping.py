"""Housekeeping: stuck jobs are rescued, expired projects and orphan files removed."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from domain.housekeeping import storage_orphans_delete
from domain.models import Job, Project
from domain.services import job_create, job_set_state
from model.actors import MAX_ATTEMPTS
from model.broker import queue_depth
from model.services import WORKER_LOST_MESSAGE, jobs_sweep, projects_expired_remove
from tests.factories import project_create_ready, user_create
from tests.helpers import stored_files

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_broker")]


def _running_export(*, attempts: int, heartbeat_ago_s: float) -> Job:
    job = job_create(project=project_create_ready(owner=user_create(), duration_s=0.5), kind=Job.Kind.EXPORT)
    job_set_state(job=job, state=Job.State.RUNNING)
    Job.objects.filter(id=job.id).update(
        attempts=attempts, heartbeat_at=timezone.now() - timedelta(seconds=heartbeat_ago_s)
    )
    return job


def test_job_whose_worker_died_is_requeued(django_capture_on_commit_callbacks):
    job = _running_export(attempts=1, heartbeat_ago_s=900)
    alive = _running_export(attempts=1, heartbeat_ago_s=5)

    with django_capture_on_commit_callbacks(execute=True):
        result = jobs_sweep(stale_after_s=600)

    assert result.requeued == [str(job.id)]
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED and job.enqueued_at is not None
    assert Job.objects.get(id=alive.id).state == Job.State.RUNNING
    assert queue_depth("cpu") == 1


def test_job_out_of_attempts_fails_with_a_plain_message(django_capture_on_commit_callbacks):
    job = _running_export(attempts=MAX_ATTEMPTS, heartbeat_ago_s=900)

    with django_capture_on_commit_callbacks(execute=True):
        result = jobs_sweep(stale_after_s=600)

    assert result.failed == [str(job.id)]
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.user_error == str(WORKER_LOST_MESSAGE)
    assert queue_depth("cpu") == 0


def test_committed_job_that_never_reached_the_broker_is_sent(django_capture_on_commit_callbacks):
    project = project_create_ready(owner=user_create(), duration_s=0.5)
    job = job_create(project=project, kind=Job.Kind.EXPORT)  # committed, never sent
    Job.objects.filter(id=job.id).update(created_at=timezone.now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        result = jobs_sweep(stale_after_s=600)
    with django_capture_on_commit_callbacks(execute=True):
        again = jobs_sweep(stale_after_s=600)

    assert result.enqueued == [str(job.id)]
    assert again.enqueued == []  # sent once
    assert queue_depth("cpu") == 1


def test_a_job_whose_message_the_broker_dropped_is_sent_again(django_capture_on_commit_callbacks):
    project = project_create_ready(owner=user_create(), duration_s=0.5)
    lost = job_create(project=project, kind=Job.Kind.EXPORT)
    waiting = job_create(project=project, kind=Job.Kind.EXPORT)
    Job.objects.filter(id=lost.id).update(enqueued_at=timezone.now() - timedelta(minutes=20))
    Job.objects.filter(id=waiting.id).update(enqueued_at=timezone.now() - timedelta(minutes=2))

    with django_capture_on_commit_callbacks(execute=True):
        result = jobs_sweep(stale_after_s=600, resend_after_s=15 * 60)

    assert result.enqueued == [str(lost.id)]  # the one sent two minutes ago is still in line
    assert queue_depth("cpu") == 1
    assert Job.objects.get(id=lost.id).enqueued_at > timezone.now() - timedelta(minutes=1)


def test_expired_projects_go_with_their_files(media, django_capture_on_commit_callbacks):
    old = project_create_ready(owner=user_create(), duration_s=0.5)
    fresh = project_create_ready(owner=user_create(), duration_s=0.5)
    Project.objects.filter(id=old.id).update(expires_at=timezone.now() - timedelta(days=1))
    Project.objects.filter(id=fresh.id).update(expires_at=timezone.now() + timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert projects_expired_remove() == 1

    assert list(Project.objects.values_list("id", flat=True)) == [fresh.id]
    assert all(str(old.id) not in key for key in stored_files(media))
    assert any(str(fresh.id) in key for key in stored_files(media))


def test_upload_sets_the_retention_deadline_of_the_plan(media, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from model.services import project_upload
    from tests.audio import write_song
    from tests.factories import pro_user_create

    song = write_song(tmp_path / "s.wav", duration_s=1.0)

    free = project_upload(owner=user_create(), upload=SimpleUploadedFile("s.wav", song.read_bytes()))
    pro = project_upload(owner=pro_user_create(), upload=SimpleUploadedFile("s.wav", song.read_bytes()))

    assert abs((free.expires_at - timezone.now()) - timedelta(days=7)) < timedelta(minutes=1)
    assert abs((pro.expires_at - timezone.now()) - timedelta(days=90)) < timedelta(minutes=1)


def test_orphan_files_are_removed_once_old_enough(media):
    project = project_create_ready(owner=user_create(), duration_s=0.5)
    orphan = media / "stems" / "0000-gone" / "vocals.flac"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by a crash")
    young = media / "exports" / "just-written.mp3"
    young.parent.mkdir(parents=True, exist_ok=True)
    young.write_bytes(b"being written")
    hour_ago = time.time() - 7200
    os.utime(orphan, (hour_ago, hour_ago))
    before = set(stored_files(media))

    deleted = storage_orphans_delete(older_than_s=3600)

    assert deleted == ["stems/0000-gone/vocals.flac"]
    assert set(stored_files(media)) == before - {"stems/0000-gone/vocals.flac"}
    assert project.original_key in stored_files(media)
