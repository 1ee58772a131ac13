"""GET/DELETE /api/v1/account/ and GET /api/v1/plans/: the plan, its usage, the subscription."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from business.models import Account, Subscription, UsageRecord
from business.services import account_get_or_create
from domain.models import Project
from tests.audio import write_song
from tests.factories import PASSWORD, pro_user_create, project_create_ready, user_create
from tests.helpers import signed_in, stored_files
from tests.stripe_standin import stripe_standin_fixture  # noqa: F401 (the stripe_standin fixture)

pytestmark = pytest.mark.django_db


def test_the_account_says_plan_usage_and_no_subscription(client, user, tmp_path):
    user.email = "ana@example.com"
    user.save()
    song = write_song(tmp_path / "a.wav", duration_s=30.0)
    client.post("/api/v1/projects/", {"file": SimpleUploadedFile("a.wav", song.read_bytes())})

    body = client.get("/api/v1/account/").json()

    assert (body["username"], body["email"]) == (user.username, "ana@example.com")
    assert body["plan"]["code"] == "free" and body["plan"]["export_formats"] == ["mp3"]
    assert body["plan"]["separation_minutes_per_month"] == 60 and body["plan"]["retention_days"] == 7
    assert body["usage"]["uploads_today"]["used"] == 1 and body["usage"]["uploads_today"]["limit"] == 5
    # 30 s × 4 stems = 2 minutes of the month's 60
    assert (body["usage"]["separation_minutes"]["used"], body["usage"]["separation_minutes"]["limit"]) == (2, 60)
    assert body["usage"]["lyrics"] == {"used": 0, "limit": 3, "resets_at": body["usage"]["lyrics"]["resets_at"]}
    assert body["subscription"] is None


def test_a_subscriber_sees_their_subscription_and_pro_limits():
    user = user_create()
    end = datetime(2027, 1, 15, tzinfo=UTC)
    Subscription.objects.create(
        account=account_get_or_create(user=user), stripe_customer_id="cus_1", stripe_subscription_id="sub_1",
        status="active", interval="year", current_period_start=datetime(2026, 1, 15, tzinfo=UTC),
        current_period_end=end, cancel_at_period_end=True,
    )  # fmt: skip

    body = signed_in(user).get("/api/v1/account/").json()

    assert body["plan"]["code"] == "pro" and "wav" in body["plan"]["export_formats"]
    assert body["subscription"] == {
        "status": "active", "interval": "year", "current_period_end": "2027-01-15T00:00:00Z",
        "cancel_at_period_end": True, "grace_until": None,
    }  # fmt: skip
    # Pro's month follows the subscription's anchor (the 15th), not the calendar
    assert body["usage"]["separation_minutes"]["resets_at"].endswith("-15T00:00:00Z")


def test_the_account_needs_a_signed_in_user():
    response = APIClient().get("/api/v1/account/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_plans_are_public_and_in_order():
    response = APIClient().get("/api/v1/plans/")

    assert response.status_code == 200
    plans = response.json()
    assert [p["code"] for p in plans] == ["free", "pro"]
    assert plans[1]["monthly_price_cents"] == 900 and plans[1]["priority"] is True
    assert plans[0]["uploads_per_day"] == 5 and plans[0]["mp3_max_kbps"] == 192


def test_deleting_the_account_deletes_projects_files_and_user(media, tmp_path, django_capture_on_commit_callbacks):
    user = pro_user_create()
    other = project_create_ready(owner=user_create(), duration_s=0.5)
    project_create_ready(owner=user, duration_s=0.5)
    client = signed_in(user)
    song = write_song(tmp_path / "a.wav", duration_s=1.0)
    client.post("/api/v1/projects/", {"file": SimpleUploadedFile("a.wav", song.read_bytes())})
    others_files = [k for k in stored_files(media) if str(other.id) in k]

    with django_capture_on_commit_callbacks(execute=True):  # files go once the deletion commits
        response = client.delete("/api/v1/account/", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert not get_user_model().objects.filter(pk=user.pk).exists()
    assert not Account.objects.filter(user_id=user.pk).exists() and not UsageRecord.objects.exists()
    assert list(Project.objects.values_list("id", flat=True)) == [other.id]
    assert [k for k in stored_files(media) if str(other.id) not in k] == []  # every file of theirs is gone
    assert [k for k in stored_files(media) if str(other.id) in k] == others_files


def test_deleting_the_account_cancels_the_subscription_in_stripe_first(stripe_standin):
    user = user_create()
    Subscription.objects.create(account=account_get_or_create(user=user), stripe_customer_id="cus_9",
                                stripe_subscription_id="sub_9", status="active", interval="month")  # fmt: skip

    response = signed_in(user).delete("/api/v1/account/", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert [(r.method, r.path) for r in stripe_standin.requests] == [("DELETE", "/v1/subscriptions/sub_9")]
    assert not get_user_model().objects.filter(pk=user.pk).exists()


def test_when_stripe_cannot_cancel_nothing_is_deleted(stripe_standin):
    user = user_create()
    project = project_create_ready(owner=user, duration_s=0.5)
    Subscription.objects.create(account=account_get_or_create(user=user), stripe_customer_id="cus_9",
                                stripe_subscription_id="sub_9", status="active", interval="month")  # fmt: skip
    stripe_standin.fail(status=500)

    response = signed_in(user).delete("/api/v1/account/", {"password": PASSWORD}, format="json")

    assert response.status_code == 502
    assert response.json()["code"] == "billing_error"
    assert get_user_model().objects.filter(pk=user.pk).exists() and Project.objects.filter(id=project.id).exists()


@pytest.mark.parametrize("body", [{}, {"password": "not-the-password"}, {"password": 42}])
def test_deleting_the_account_needs_its_password_and_a_wrong_one_deletes_nothing(body):
    from django.core.cache import cache

    user = user_create()
    project = project_create_ready(owner=user, duration_s=0.5)
    cache.clear()

    response = signed_in(user).delete("/api/v1/account/", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input" and "password" in response.json()["extra"]["fields"]
    assert get_user_model().objects.filter(pk=user.pk).exists() and Project.objects.filter(id=project.id).exists()


def test_wrong_passwords_on_deletion_count_as_failed_logins(settings):
    from django.core.cache import cache

    settings.ISOMIX_LOGIN_ACCOUNT_FAILURES = 2
    cache.clear()
    user = user_create()
    client = signed_in(user)
    answers = [client.delete("/api/v1/account/", {"password": f"guess-{n}"}, format="json").status_code
               for n in range(3)]  # fmt: skip
    right = client.delete("/api/v1/account/", {"password": PASSWORD}, format="json")
    cache.clear()

    assert answers == [400, 429, 429]
    assert right.status_code == 429 and "Retry-After" in right.headers  # locked: not even the right one
    assert get_user_model().objects.filter(pk=user.pk).exists()
