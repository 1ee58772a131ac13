"""The streaming cap stops an upload as soon as it passes the limit."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from application.api.uploads import LimitedUploadHandler
from domain.exceptions import FileTooLarge


def test_handler_stops_past_the_limit_and_drops_its_temporary_file():
    handler = LimitedUploadHandler(RequestFactory().post("/"), max_bytes=100)
    handler.new_file("file", "song.mp3", "audio/mpeg", 1000)
    handler.receive_data_chunk(b"x" * 60, 0)
    temp_path = handler.file.temporary_file_path()

    with pytest.raises(FileTooLarge) as excinfo:
        handler.receive_data_chunk(b"x" * 60, 60)

    assert excinfo.value.status_code == 413
    assert excinfo.value.extra == {"max_bytes": 100}
    import os

    assert not os.path.exists(temp_path)


@pytest.mark.django_db
def test_the_upload_cap_follows_the_plan_of_the_token_or_the_session_the_headers_name():
    from django.conf import settings
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from application.api.uploads import upload_cap_for_headers
    from tests.factories import pro_user_create, user_create

    free_token = Token.objects.create(user=user_create()).key
    browser = Client()
    browser.force_login(pro_user_create())
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value

    assert upload_cap_for_headers([(b"authorization", f"Token {free_token}".encode())]) == 50_000_000
    assert upload_cap_for_headers([(b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())]) == 200_000_000
    assert upload_cap_for_headers([(b"authorization", b"Token not-a-token")]) is None
    assert upload_cap_for_headers([(b"cookie", f"{settings.SESSION_COOKIE_NAME}=forged".encode())]) is None
    assert upload_cap_for_headers([]) is None
