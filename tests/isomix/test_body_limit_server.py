"""The real web server (``runstudio``, uvicorn) refuses large bodies where they arrive.

Raw sockets, so that "without the body being sent" and "cut off" are what the client
really saw: the headers alone get the 413, and a chunked body stops being taken soon
after its limit. Memory is the server's whole process tree, sampled while the body is sent.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from bench.run.web import LOGIN_PATH, UPLOAD_PATH, RssPeak, post_chunked, post_declared
from tests.e2e.stack import Stack, request

MB = 1_000_000
SMALL_LIMIT = 2_621_440  # ISOMIX_MAX_BODY_BYTES' default
FILE_TOO_LARGE = {"code": "file_too_large", "message": "The file is larger than 100 MB.", "extra": {"max_bytes": 10**8}}
REQUEST_TOO_LARGE = {
    "code": "request_too_large",
    "message": "The request body is larger than 2.6 MB.",
    "extra": {"max_bytes": SMALL_LIMIT},
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    # The server's own cap (whatever the plan): the ASGI body limit refuses past it.
    stack = Stack(tmp_path_factory.mktemp("body-limit"), embedded=True, ISOMIX_MAX_UPLOAD_MB="100")
    yield stack
    stack.close()


@pytest.mark.parametrize(
    ("path", "with_token", "expected"),
    [(UPLOAD_PATH, True, FILE_TOO_LARGE), (UPLOAD_PATH, False, FILE_TOO_LARGE), (LOGIN_PATH, False, REQUEST_TOO_LARGE)],
    ids=["upload-with-token", "upload-anonymous", "login"],
)
def test_a_declared_150_mb_body_is_refused_from_its_headers_alone(stack, path, with_token, expected):
    # Only the headers go out: a server that waited for the body would never answer (timeout).
    answer = post_declared(stack.port, path, length=150 * MB, token=stack.token if with_token else "",
                           send_body=False, timeout_s=20)  # fmt: skip

    assert (answer.status, answer.body) == (413, expected)
    assert answer.sent_bytes == 0


def test_a_client_waiting_for_100_continue_never_has_to_send_the_body(stack):
    answer = post_declared(stack.port, UPLOAD_PATH, length=150 * MB, token=stack.token, send_body=False,
                           expect_continue=True, timeout_s=20)  # fmt: skip

    assert (answer.status, answer.body) == (413, FILE_TOO_LARGE)  # the answer, not "100 Continue"


@pytest.mark.parametrize(
    ("path", "total", "expected"),
    [(LOGIN_PATH, 64 * MB, REQUEST_TOO_LARGE), (UPLOAD_PATH, 150 * MB, FILE_TOO_LARGE)],
    ids=["login", "upload"],
)
def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(stack, path, total, expected):
    answer = post_chunked(stack.port, path, total_bytes=total, token=stack.token)

    assert (answer.status, answer.body) == (413, expected)
    # The server stopped reading and closed: the client could not get the rest out (what it
    # did get out past the limit sat in the two sockets' buffers).
    assert answer.sent_bytes < total - 20 * MB


def test_memory_stays_bounded_while_large_bodies_are_refused(stack):
    with RssPeak(stack.web.pid) as peak:
        before = peak.peak
        declared = post_declared(stack.port, UPLOAD_PATH, length=150 * MB, token=stack.token)
        chunked = post_chunked(stack.port, UPLOAD_PATH, total_bytes=150 * MB, token=stack.token)
        login = post_chunked(stack.port, LOGIN_PATH, total_bytes=150 * MB)

    assert [declared.status, chunked.status, login.status] == [413, 413, 413]
    assert peak.peak - before < 100 * MB


def test_a_legitimate_upload_still_streams_through(stack):
    project_id = stack.upload(duration_s=3.0, seed=11)

    assert stack.project(project_id)["http_status"] == 200


def test_a_body_within_the_limit_still_reaches_django(stack):
    # A multipart body with no file: the view's own answer, not the limit's.
    answer = request(stack.port, "POST", UPLOAD_PATH, stack.token, body=b"--b--\r\n",
                     ctype="multipart/form-data; boundary=b")  # fmt: skip

    assert (answer["http_status"], answer["code"]) == (400, "invalid_input")


# ---------------------------------------------------------------- X-Forwarded-For


def _logged_client(stack: Stack, probe: str, *, forwarded_for: str) -> str:
    """Send a request claiming ``forwarded_for``; the client address the server logged for it."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    conn.request("GET", f"/health?probe={probe}", headers={"X-Forwarded-For": forwarded_for})
    conn.getresponse().read()
    conn.close()
    log = stack.tmp / "web.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        # uvicorn's access line: '<client host>:<port> - "GET /health?probe=... HTTP/1.1" 200'
        for line in Path(log).read_text(errors="replace").splitlines():
            if f"probe={probe}" in line and "uvicorn.access" in line:
                return line.split("] ", 1)[1].split(" - ", 1)[0].rsplit(":", 1)[0]
        time.sleep(0.1)
    raise AssertionError(f"no access line for {probe}")


def test_x_forwarded_for_from_an_unconfigured_peer_is_not_the_client_address(stack):
    assert _logged_client(stack, uuid.uuid4().hex, forwarded_for="203.0.113.7") == "127.0.0.1"


def test_x_forwarded_for_from_a_configured_proxy_is_the_client_address(tmp_path):
    # The same observation, with loopback configured as the proxy: the header is then believed.
    trusting = Stack(tmp_path, embedded=True, ISOMIX_TRUSTED_PROXIES="127.0.0.1")
    try:
        assert _logged_client(trusting, uuid.uuid4().hex, forwarded_for="203.0.113.7") == "203.0.113.7"
    finally:
        trusting.close()


def test_a_free_users_upload_over_their_plans_size_is_refused_from_its_headers(stack):
    # A Free user (50 MB a file) declaring 60 MB: under the server's 100 MB, over the plan's.
    free_token = stack.manage("shell", "-c", (
        "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token;"
        "print(Token.objects.create(user=User.objects.create_user('free-uploader', password='x' * 20)).key)"
    )).strip().splitlines()[-1]  # fmt: skip

    answer = post_declared(stack.port, UPLOAD_PATH, length=60 * MB, token=free_token, send_body=False, timeout_s=20)
    pro = post_declared(stack.port, UPLOAD_PATH, length=60 * MB, token=stack.token, timeout_s=30)

    assert answer.status == 413 and answer.sent_bytes == 0
    assert answer.body == {"code": "file_too_large", "message": "The file is larger than 50 MB.",
                           "extra": {"max_bytes": 50 * MB}}  # fmt: skip
    # The stack's user is on Pro (200 MB): the same 60 MB is taken whole, then found not to be a song.
    assert pro.status == 400 and pro.sent_bytes == 60 * MB
