"""Plan limits: what a user may upload and export, read from the operator's settings."""

from __future__ import annotations

import pytest

from business.selectors import plan_limits_for_user
from tests.factories import user_create

pytestmark = pytest.mark.django_db


def test_the_free_plan_follows_the_operators_settings(settings):
    settings.ISOMIX_MAX_UPLOAD_MB = 25
    settings.ISOMIX_MAX_DURATION_S = 300
    settings.ISOMIX_EXPORT_FORMATS = ["mp3"]

    limits = plan_limits_for_user(user=user_create())

    assert limits.max_upload_bytes == 25_000_000  # decimal megabytes, as every message says
    assert limits.max_upload_mb == 25
    assert limits.max_duration_s == 300.0
    assert limits.export_formats == ("mp3",)


def test_an_anonymous_request_gets_the_default_plan(settings):
    settings.ISOMIX_MAX_UPLOAD_MB = 7

    assert plan_limits_for_user(user=None) == plan_limits_for_user(user=user_create())
    assert plan_limits_for_user(user=None).max_upload_bytes == 7_000_000
