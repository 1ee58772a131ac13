"""The usage ledger: allowances reserved when work is accepted, committed or released by its outcome."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from business.exceptions import QuotaExceeded
from business.models import Account, UsageRecord
from business.quotas import quota_commit, quota_release, quota_reserve
from business.selectors import plan_limits_for_user, usage_for_user
from domain.models import Job, Project
from model.actors import separate_stems, separate_stems_priority
from model.broker import queue_depth
from model.services import project_remove, project_upload, separation_engine_for
from tests.audio import write_song
from tests.factories import plan_update, pro_user_create, user_create
from tests.helpers import stored_files

pytestmark = pytest.mark.django_db
UPLOADS, SECONDS = UsageRecord.Metric.UPLOADS, UsageRecord.Metric.SEPARATION_SECONDS


@pytest.fixture(autouse=True)
def _queues_empty(empty_broker):
    return empty_broker


def _reserve(user, **amounts):
    with transaction.atomic():
        return quota_reserve(user=user, amounts=amounts, job_slot=False)


def test_a_reservation_counts_until_it_is_released():
    plan_update("free", uploads_per_day=2)
    user = user_create()
    first = _reserve(user, uploads=1)
    first.attach(job_id="00000000-0000-0000-0000-000000000001")
    _reserve(user, uploads=1)

    with pytest.raises(QuotaExceeded) as refused:
        _reserve(user, uploads=1)
    assert refused.value.status_code == 402
    assert refused.value.extra["limit"] == 2 and refused.value.extra["used"] == 2
    assert refused.value.extra["metric"] == "uploads" and refused.value.extra["upgrade_url"] == "/pricing/"
    assert UsageRecord.objects.count() == 2  # the refused one left nothing

    assert quota_release(job_id="00000000-0000-0000-0000-000000000001") == 1
    _reserve(user, uploads=1)  # the released upload is back
    assert usage_for_user(user=user)["uploads"].used == 2


def test_committed_work_keeps_counting_and_settles_once():
    user = user_create()
    reservation = _reserve(user, separation_s=600)
    reservation.attach(job_id="00000000-0000-0000-0000-000000000002")

    assert quota_commit(job_id="00000000-0000-0000-0000-000000000002") == 1
    assert quota_release(job_id="00000000-0000-0000-0000-000000000002") == 0  # already settled
    assert usage_for_user(user=user)["separation_s"].used == 600


def test_all_or_nothing_when_one_allowance_is_short():
    plan_update("free", separation_minutes_per_month=10)
    user = user_create()

    with pytest.raises(QuotaExceeded) as refused:
        _reserve(user, uploads=1, separation_s=11 * 60)

    assert refused.value.extra["metric"] == "separation_minutes"
    assert (refused.value.extra["limit"], refused.value.extra["used"]) == (10, 0)  # in minutes
    assert UsageRecord.objects.count() == 0


def test_last_months_usage_does_not_count_this_month():
    plan_update("free", separation_minutes_per_month=10)
    user = user_create()
    _reserve(user, separation_s=600)
    UsageRecord.objects.update(created_at=timezone.now() - timedelta(days=40))

    _reserve(user, separation_s=600)  # a new month: the whole allowance again

    assert usage_for_user(user=user)["separation_s"].used == 600


@pytest.mark.django_db(transaction=True)
def test_quota_reserve_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        quota_reserve(user=user_create(), amounts={UPLOADS: 1})


@pytest.mark.django_db(transaction=True)
def test_ten_reservations_at_once_with_three_left_accept_exactly_three():
    plan_update("free", uploads_per_day=3)
    user = user_create()
    Account.objects.filter(user=user).delete()  # the first reservation also makes the account
    start = threading.Barrier(10, timeout=60)
    outcomes: list[str] = []

    def reserve() -> None:
        try:
            start.wait()
            _reserve(user, uploads=1)
            outcomes.append("accepted")
        except QuotaExceeded:
            outcomes.append("refused")
        except Exception as exc:  # noqa: BLE001 - any other outcome is the failure this test looks for
            outcomes.append(f"error: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["accepted"] * 3 + ["refused"] * 7
    assert UsageRecord.objects.filter(metric=UPLOADS).count() == 3
    assert Account.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_uploads_at_once_with_three_left_accept_exactly_three(media, tmp_path):
    plan_update("free", uploads_per_day=3, concurrent_jobs=20)
    user = user_create()
    song = write_song(tmp_path / "song.wav", duration_s=1.0).read_bytes()
    start = threading.Barrier(10, timeout=60)
    statuses: list[int] = []

    def upload() -> None:
        try:
            client = Client()
            client.force_login(user)
            connection.close()  # back to the pool (PostgreSQL: 8 a process) while the others sign in
            start.wait()
            response = client.post("/api/v1/projects/", {"file": SimpleUploadedFile("song.wav", song)})
            statuses.append(response.status_code)
            if response.status_code == 402:
                assert response.json()["code"] == "quota_exceeded"
        finally:
            connection.close()

    threads = [threading.Thread(target=upload) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [202] * 3 + [402] * 7
    assert Project.objects.filter(owner=user).count() == 3
    assert len([k for k in stored_files(media) if k.startswith("uploads/")]) == 3
    assert UsageRecord.objects.filter(metric=UPLOADS, state=UsageRecord.State.RESERVED).count() == 3


def test_an_upload_past_the_days_allowance_is_402_and_leaves_nothing(client, user, media, tmp_path):
    plan_update("free", uploads_per_day=1)
    song = write_song(tmp_path / "song.wav", duration_s=1.0)
    first = client.post("/api/v1/projects/", {"file": SimpleUploadedFile("a.wav", song.read_bytes())})
    files_before = stored_files(media)

    refused = client.post("/api/v1/projects/", {"file": SimpleUploadedFile("b.wav", song.read_bytes())})

    assert first.status_code == 202
    assert refused.status_code == 402
    body = refused.json()
    assert body["code"] == "quota_exceeded"
    assert {k: body["extra"][k] for k in ("metric", "limit", "used", "upgrade_url")} == {
        "metric": "uploads", "limit": 1, "used": 1, "upgrade_url": "/pricing/",
    }  # fmt: skip
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert body["extra"]["resets_at"].startswith(tomorrow)
    assert "1 upload a day" in body["message"]
    assert Project.objects.count() == 1 and Job.objects.count() == 1
    assert UsageRecord.objects.filter(metric=UPLOADS).count() == 1
    assert stored_files(media) == files_before


def test_a_song_longer_than_the_minutes_left_is_402(client, user, media, tmp_path):
    plan_update("free", separation_minutes_per_month=1)  # 60 s: a 20 s song × 4 stems needs 80
    song = write_song(tmp_path / "song.wav", duration_s=20.0)

    refused = client.post("/api/v1/projects/", {"file": SimpleUploadedFile("a.wav", song.read_bytes())})

    assert refused.status_code == 402
    assert refused.json()["extra"]["metric"] == "separation_minutes"
    assert "needs 2 separation minutes" in refused.json()["message"]
    assert Project.objects.count() == 0 and UsageRecord.objects.count() == 0 and stored_files(media) == []


def test_the_plans_jobs_at_once_limit_uploads(client, user, media, tmp_path):
    plan_update("free", concurrent_jobs=1)
    song = write_song(tmp_path / "song.wav", duration_s=1.0)
    client.post("/api/v1/projects/", {"file": SimpleUploadedFile("a.wav", song.read_bytes())})

    refused = client.post("/api/v1/projects/", {"file": SimpleUploadedFile("b.wav", song.read_bytes())})

    assert refused.status_code == 402
    assert refused.json()["extra"]["metric"] == "concurrent_jobs"
    assert refused.json()["extra"]["resets_at"] is None
    assert Project.objects.count() == 1


def test_a_separation_that_succeeds_commits_and_one_that_fails_releases(media, tmp_path):
    user = user_create()
    good = project_upload(owner=user, upload=SimpleUploadedFile(
        "a.wav", write_song(tmp_path / "a.wav", duration_s=2.0).read_bytes()))  # fmt: skip
    bad = project_upload(owner=user, upload=SimpleUploadedFile(
        "b.wav", write_song(tmp_path / "b.wav", duration_s=3.0).read_bytes()))  # fmt: skip
    (media / bad.original_key).write_bytes(b"RIFF not audio any more")  # the decode fails for good

    separate_stems.fn(str(good.jobs.get().id))
    separate_stems.fn(str(bad.jobs.get().id))

    states = dict(UsageRecord.objects.filter(metric=SECONDS).values_list("job_id", "state"))
    assert states[good.jobs.get(kind=Job.Kind.SEPARATE).id] == UsageRecord.State.COMMITTED
    assert bad.jobs.get().state == Job.State.FAILED
    assert states[bad.jobs.get().id] == UsageRecord.State.RELEASED
    assert usage_for_user(user=user)["uploads"].used == 1
    assert usage_for_user(user=user)["separation_s"].used == 2 * 4


def test_deleting_a_project_before_its_job_ran_releases_its_reservation(media, tmp_path):
    user = user_create()
    song = write_song(tmp_path / "song.wav", duration_s=1.0)
    project = project_upload(owner=user, upload=SimpleUploadedFile("a.wav", song.read_bytes()))

    project_remove(project=project)

    assert set(UsageRecord.objects.values_list("state", flat=True)) == {UsageRecord.State.RELEASED}
    assert usage_for_user(user=user)["uploads"].used == 0


def test_a_downgrade_after_the_upload_does_not_fail_the_accepted_job(media, tmp_path):
    plan_update("free", max_duration_min=1)
    user = pro_user_create()
    song = write_song(tmp_path / "long.wav", duration_s=65.0)
    project = project_upload(owner=user, upload=SimpleUploadedFile("long.wav", song.read_bytes()))
    Account.objects.filter(user=user).update(plan=None)  # back to Free (1 min) before the job runs
    assert plan_limits_for_user(user=user).max_duration_s == 60

    separate_stems_priority.fn(str(project.jobs.get().id))

    project.refresh_from_db()
    assert project.status == Project.Status.READY, project.error
    assert project.limits["plan"] == "pro" and project.limits["max_duration_s"] == 1200


def test_pro_jobs_go_to_the_priority_queue(media, tmp_path):
    song = write_song(tmp_path / "song.wav", duration_s=1.0)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        free = project_upload(owner=user_create(), upload=SimpleUploadedFile("a.wav", song.read_bytes()))
        pro = project_upload(owner=pro_user_create(), upload=SimpleUploadedFile("a.wav", song.read_bytes()))

    assert (free.jobs.get().priority, pro.jobs.get().priority) == (False, True)
    assert (queue_depth("gpu"), queue_depth("gpu-priority")) == (1, 1)


def test_an_engine_outside_the_plan_falls_back_to_one_inside_it(settings):
    settings.ISOMIX_SEPARATION_ENGINE = "htdemucs_6s"
    settings.ISOMIX_DEMUCS_MODEL_DIR = None

    free = plan_limits_for_user(user=user_create())
    pro = plan_limits_for_user(user=pro_user_create())

    assert separation_engine_for(limits=free) == "offline"  # no Demucs weights on this machine
    assert separation_engine_for(limits=pro) == "htdemucs_6s"


def test_under_auto_each_plan_gets_its_best_engine_that_is_installed(settings, monkeypatch):
    from model.engines import demucs_engine

    settings.ISOMIX_SEPARATION_ENGINE = "auto"
    monkeypatch.setattr(demucs_engine, "demucs_weights_available", lambda name, *, model_dir: True)

    assert separation_engine_for(limits=plan_limits_for_user(user=pro_user_create())) == "htdemucs_ft"
    assert separation_engine_for(limits=plan_limits_for_user(user=user_create())) == "htdemucs"


def test_an_expired_project_with_a_queued_job_gives_its_reservation_back(media, tmp_path):
    from model.services import projects_expired_remove

    user = user_create()
    song = write_song(tmp_path / "song.wav", duration_s=1.0)
    project = project_upload(owner=user, upload=SimpleUploadedFile("a.wav", song.read_bytes()))
    Project.objects.filter(id=project.id).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert projects_expired_remove() == 1

    assert set(UsageRecord.objects.values_list("state", flat=True)) == {UsageRecord.State.RELEASED}


def test_the_default_mp3_rate_follows_a_plan_whose_best_is_lower(media):
    from domain.mix import MixSettings
    from model.services import export_start
    from tests.factories import project_create_ready

    plan_update("free", mp3_max_kbps=128)
    project = project_create_ready(owner=user_create(), duration_s=0.5)

    export = export_start(project=project, fmt="mp3", mix=MixSettings())

    assert export.bitrate_kbps == 128
