"""Hostile request bodies and query strings get the house 4xx, never a 500 or Django's HTML page."""

from __future__ import annotations

import json
import tracemalloc
import uuid

import pytest
from django.core import exceptions as django_exceptions
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework import exceptions
from rest_framework.test import APIClient

from application.api.errors import exception_handler
from application.api.parsers import MAX_DEPTH, json_loads_strict, nesting_depth_over
from domain.exceptions import ErrorCode, MalformedBody, TooManyAttempts
from domain.models import Export, Job, Project
from tests.factories import project_create_ready, user_create
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db

PROJECTS = "/api/v1/projects/"


@pytest.fixture
def exports() -> tuple[APIClient, str]:
    """A signed-in owner, and the export URL of their ready project."""
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    return signed_in(owner), f"/api/v1/projects/{project.id}/exports/"


def nested(depth: int) -> str:
    """``{"format": "wav", "stems": [[…]]}`` nesting ``depth`` deep in all."""
    return '{"format": "wav", "stems": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def assert_no_export() -> None:
    assert Export.objects.count() == 0
    assert Job.objects.filter(kind=Job.Kind.EXPORT).count() == 0


TOO_DEEP = {
    "code": "parse_error",
    "message": f"The JSON nests deeper than {MAX_DEPTH} levels.",
    "extra": {"reason": "too_deep", "max_depth": MAX_DEPTH},
}


# ---------------------------------------------------------------- JSON bodies


@pytest.mark.parametrize("depth", [1000, MAX_DEPTH + 1])
def test_json_nested_too_deep_is_a_400(exports, depth):
    client, url = exports

    response = client.post(url, nested(depth), content_type="application/json")

    assert response.status_code == 400
    assert response.json() == TOO_DEEP
    assert_no_export()


def test_json_nested_as_deep_as_allowed_reaches_the_serializer(exports):
    client, url = exports

    response = client.post(url, nested(MAX_DEPTH), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert list(response.json()["extra"]["fields"]) == ["stems"]
    assert_no_export()


def test_an_export_nesting_three_deep_is_accepted(exports):
    client, url = exports
    payload = {"format": "mp3", "stems": {"vocals": {"gain_db": -3, "mute": True}}}

    response = client.post(url, json.dumps(payload), content_type="application/json")

    assert response.status_code == 202, response.content
    strip = Export.objects.get().settings["stems"]["vocals"]
    assert strip == {"gain_db": -3.0, "mute": True, "solo": False, "pan": 0.0}


def test_brackets_inside_strings_do_not_count_as_nesting(exports):
    client, url = exports
    fmt = '\\"[{' * 40  # escaped quotes too: the string does not end early

    response = client.post(url, f'{{"format": "{fmt}"}}', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert list(response.json()["extra"]["fields"]) == ["format"]
    assert_no_export()


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_number_that_is_not_finite_is_a_400(exports, number):
    client, url = exports

    response = client.post(url, f'{{"format": "wav", "master_gain_db": {number}}}', content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "parse_error",
        "message": f"The JSON contains a number that is not finite ({number}).",
        "extra": {"reason": "not_finite"},
    }
    assert_no_export()


def test_a_body_that_is_not_utf8_is_a_400(exports):
    client, url = exports

    response = client.post(url, b'{"format": "w\xe4v"}', content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "parse_error",
        "message": "The request body is not UTF-8 text.",
        "extra": {"reason": "encoding", "position": 13},
    }
    assert_no_export()


def test_an_unpaired_surrogate_is_a_400(exports):
    # Echoed back in "is not a valid choice", it could not be encoded: a 500 before.
    client, url = exports

    response = client.post(url, '{"format": "\\ud800"}', content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "parse_error",
        "message": "The JSON contains an unpaired UTF-16 surrogate escape.",
        "extra": {"reason": "surrogate"},
    }
    assert_no_export()


def test_invalid_json_names_where(exports):
    client, url = exports

    response = client.post(url, '{"format":\n  wav}', content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "parse_error",
        "message": "The request body is not valid JSON.",
        "extra": {"reason": "syntax", "line": 2, "column": 3},
    }
    assert_no_export()


def test_a_json_body_over_the_memory_limit_is_a_413(exports, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
    client, url = exports
    body = json.dumps({"format": "wav", "padding": "x" * 5_000_000})

    response = client.post(url, body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "request_too_large",
        "message": "The request body is larger than 2.6 MB.",
        "extra": {"max_bytes": 2_621_440},
    }
    assert_no_export()


@pytest.mark.parametrize(
    ("body", "over"),
    [
        ("[]", False),
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, False),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), True),
        ('{"a": [{"b": [1, 2, {"c": []}]}], "d": {}}', False),
        ("[{}]" * 1000, False),  # wide, not deep
        ("[" * MAX_DEPTH + '"]]]]\\"' + "]" * MAX_DEPTH, False),  # closers in a string do not close
        ("[" * (MAX_DEPTH + 1), True),  # never closed: json.loads would still descend
        ("[" * 20 + "[]" * 5 + "[" * 13, True),  # unclosed openers add to what nests after them
    ],
)
def test_nesting_depth_over(body, over):
    assert nesting_depth_over(body.encode(), max_depth=MAX_DEPTH) is over


def test_the_depth_check_of_a_hostile_body_stays_small_in_memory():
    # A million escapes in one string, then deep brackets: a regex that kept backtracking
    # state would take ~150 MB here.
    body = b'["' + b'\\"' * 1_000_000 + b'", ' + b"[" * 40 + b"]" * 41

    tracemalloc.start()
    try:
        over = nesting_depth_over(body, max_depth=MAX_DEPTH)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert over is True
    assert peak < 3 * len(body)


def test_json_loads_strict_refuses_a_body_the_stack_could_not_hold():
    body = b"[" * 2_000_000 + b"]" * 2_000_000

    with pytest.raises(MalformedBody) as refused:
        json_loads_strict(body)

    assert refused.value.extra == {"reason": "too_deep", "max_depth": MAX_DEPTH}


# ---------------------------------------------------------------- pagination


@pytest.mark.parametrize(
    ("query", "param", "message"),
    [
        ("limit=99999999999999999999", "limit", "limit must be a whole number from 1 to 100."),
        ("limit=-1", "limit", "limit must be a whole number from 1 to 100."),
        ("limit=abc", "limit", "limit must be a whole number from 1 to 100."),
        ("limit=0", "limit", "limit must be a whole number from 1 to 100."),
        ("limit=101", "limit", "limit must be a whole number from 1 to 100."),
        ("limit=", "limit", "limit must be a whole number from 1 to 100."),
        ("offset=99999999999999999999", "offset", "offset must be a whole number from 0 to 1000000000."),
        ("offset=-1", "offset", "offset must be a whole number from 0 to 1000000000."),
        ("offset=1e3", "offset", "offset must be a whole number from 0 to 1000000000."),
    ],
)
def test_a_limit_or_offset_out_of_bounds_is_a_400(query, param, message):
    client = signed_in(user_create())

    response = client.get(f"{PROJECTS}?{query}")

    assert response.status_code == 400
    assert response.json() == {"code": "invalid_input", "message": message, "extra": {"fields": {param: [message]}}}


def test_limit_and_offset_page_through_the_list():
    owner = user_create()
    mine = {str(project_create_ready(owner=owner, duration_s=0.5).id) for _ in range(3)}
    client = signed_in(owner)

    first = client.get(f"{PROJECTS}?limit=2")
    second = client.get(first.json()["next"])
    last_allowed = client.get(f"{PROJECTS}?limit=100&offset=1000000000")

    assert first.status_code == second.status_code == last_allowed.status_code == 200
    assert first.json()["count"] == second.json()["count"] == 3
    assert len(first.json()["results"]) == 2
    assert first.json()["next"] == "http://testserver/api/v1/projects/?limit=2&offset=2"
    assert len(second.json()["results"]) == 1
    assert second.json()["next"] is None
    assert {p["id"] for p in first.json()["results"] + second.json()["results"]} == mine
    assert last_allowed.json()["results"] == []


# ---------------------------------------------------------------- Django's own refusals


def test_too_many_query_parameters_is_a_400(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    client = signed_in(user_create())

    response = client.get(PROJECTS + "?" + "&".join(f"p{i}=1" for i in range(6)))

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_input",
        "message": "The request has more than 5 parameters or form fields.",
        "extra": {"max_fields": 5},
    }


def test_too_many_files_in_an_upload_is_a_400(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    client = signed_in(user_create())
    files = [SimpleUploadedFile(f"song{i}.wav", b"RIFF") for i in range(2)]

    response = client.post(PROJECTS, {"file": files}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_input",
        "message": "The request has more than 1 files.",
        "extra": {"max_files": 1},
    }
    assert Project.objects.count() == 0


# ---------------------------------------------------------------- the handler's codes and headers


def test_every_code_the_api_answers_with_is_an_error_code(exports, monkeypatch, settings):
    from application.api.uploads import UploadRateThrottle

    client, url = exports
    monkeypatch.setattr(UploadRateThrottle, "THROTTLE_RATES", {"uploads": "0/hour"})
    # A cache of its own: another test's uploads (same user id after its rollback) would count.
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}

    answers = {
        "anonymous": APIClient().get(PROJECTS),
        "bad token": APIClient().get(PROJECTS, HTTP_AUTHORIZATION="Token not-a-token"),
        "unknown project": client.get("/api/v1/projects/00000000-0000-0000-0000-000000000000/"),
        "wrong method": client.put(PROJECTS),
        "wrong media type": client.post(url, "format=wav", content_type="text/plain"),
        "unacceptable": client.get(PROJECTS, HTTP_ACCEPT="image/png"),
        "invalid input": client.post(url, {"format": "exe"}, format="json"),
        "unparsable": client.post(url, "{", content_type="application/json"),
        "throttled": client.post(PROJECTS, {"name": "x"}, format="multipart"),
    }

    assert {name: (r.status_code, r.json()["code"]) for name, r in answers.items()} == {
        # TokenAuthentication comes first and names its scheme: DRF answers 401, as a token client expects.
        "anonymous": (401, "not_authenticated"),
        "bad token": (401, "authentication_failed"),
        "unknown project": (404, "not_found"),
        "wrong method": (405, "method_not_allowed"),
        "wrong media type": (415, "unsupported_media_type"),
        "unacceptable": (406, "not_acceptable"),
        "invalid input": (400, "invalid_input"),
        "unparsable": (400, "parse_error"),
        "throttled": (429, "throttled"),
    }
    assert all(r.json()["code"] in set(ErrorCode) for r in answers.values())
    assert all(set(r.json()) == {"code", "message", "extra"} for r in answers.values())
    assert answers["throttled"]["Retry-After"] == "3600"
    assert answers["anonymous"]["WWW-Authenticate"] == answers["bad token"]["WWW-Authenticate"] == "Token"
    assert_no_export()


@pytest.mark.parametrize(
    ("exc", "status", "code", "headers"),
    [
        (TooManyAttempts("Wait.", retry_after_s=42), 429, "too_many_attempts", {"Retry-After": "42"}),
        (exceptions.Throttled(wait=7), 429, "throttled", {"Retry-After": "7"}),
        (exceptions.APIException(), 500, "error", {}),
        (django_exceptions.PermissionDenied(), 403, "permission_denied", {}),
        (django_exceptions.SuspiciousMultipartForm("bad boundary"), 400, "parse_error", {}),
        (django_exceptions.SuspiciousFileOperation("../etc"), 400, "invalid_input", {}),
    ],
)
def test_the_handler_renders_each_kind_of_error(exc, status, code, headers):
    response = exception_handler(exc, {"request": None, "view": None})

    assert response.status_code == status
    assert response.data["code"] == code
    assert response.data["code"] in set(ErrorCode)
    assert {name: response[name] for name in headers} == headers


def test_deeply_nested_json_to_the_token_endpoint_is_a_400(db):
    body = "[" * 1000 + "]" * 1000

    response = APIClient().post("/api/v1/auth/token/", data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert response.json()["extra"]["reason"] == "too_deep"
