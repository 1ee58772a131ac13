"""What the OpenAPI schema says about the whole API, checked against the code it comes from.

tests/contract runs schemathesis against the running product; these are the facts about the
document itself that a generated client relies on, and the answers behind them.
"""

from __future__ import annotations

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from domain.exceptions import ErrorCode
from tests.factories import project_create_ready, user_create
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _error_ref(response: dict) -> str:
    return response["content"]["application/json"]["schema"]["$ref"]


def test_the_project_list_is_documented_as_the_page_it_is(schema):
    operation = schema["paths"]["/api/v1/projects/"]["get"]
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    fields = schema["components"]["schemas"][page]["properties"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}

    assert set(fields) == {"count", "next", "previous", "results"}
    assert fields["results"]["type"] == "array"
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 100)
    assert parameters["offset"]["minimum"] == 0


def test_every_operation_documents_its_errors_in_the_house_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    codes = schema["components"]["schemas"]["ErrorCodeEnum"]["enum"]

    assert set(error["required"]) == {"code", "message", "extra"}
    assert set(codes) == {code.value for code in ErrorCode}
    for method, path, operation in _operations(schema):
        responses = operation["responses"]
        errors = {status for status in responses if status.startswith(("4", "5"))}
        if (method, path) == ("GET", "/api/v1/plans/"):  # public, and takes no input: no error to give
            assert not errors
            continue
        assert errors, f"{method} {path} documents no error"
        assert all(_error_ref(responses[s]).endswith("/Error") for s in errors), f"{method} {path}"
        if "{" in path:
            assert "404" in responses, f"{method} {path}"
        if path != "/api/v1/auth/token/":
            assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True, f"{method} {path}"
        if method in {"POST", "PUT"}:
            assert {"400", "403", "413", "415"} <= set(responses), f"{method} {path}"
    assert "429" in schema["paths"]["/api/v1/projects/"]["post"]["responses"]
    assert "429" not in schema["paths"]["/api/v1/projects/"]["get"]["responses"]  # reads are not throttled


def test_the_upload_takes_a_binary_file_and_the_token_a_non_empty_name(schema):
    schemas = schema["components"]["schemas"]
    upload = schema["paths"]["/api/v1/projects/"]["post"]["requestBody"]["content"]["multipart/form-data"]
    upload_fields = schemas[upload["schema"]["$ref"].rsplit("/", 1)[-1]]["properties"]
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["requestBody"]["content"]["application/json"]
    token_fields = schemas[token["schema"]["$ref"].rsplit("/", 1)[-1]]["properties"]

    assert upload_fields["file"] == {"type": "string", "format": "binary"}
    assert token_fields["username"]["minLength"] == token_fields["password"]["minLength"] == 1


def test_without_credentials_a_client_is_asked_for_its_token():
    response = APIClient().get("/api/v1/projects/")

    assert (response.status_code, response["WWW-Authenticate"]) == (401, "Token")
    assert response.json()["code"] == "not_authenticated"


def test_a_path_no_api_route_takes_is_a_json_404_and_a_page_path_the_404_page():
    api = Client().get("/api/v1/projects/not-a-uuid/")
    page = Client().get("/projects/not-a-uuid/")

    assert api.status_code == page.status_code == 404
    assert api.json() == {"code": "not_found", "message": "Not found.", "extra": {}}
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"settings": {"master_gain_db": False}}, "master_gain_db"),
        ({"settings": {"transpose": "3"}}, "transpose"),
        ({"settings": {"tempo": "1.2"}}, "tempo"),
        ({"settings": {"stems": {"vocals": {"mute": 1}}}}, "stems"),
    ],
)
def test_mixer_numbers_and_switches_take_json_types_only(body, field):
    project = project_create_ready(owner=user_create(), duration_s=1.0)
    client = signed_in(project.owner)

    response = client.put(f"/api/v1/projects/{project.id}/mix/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]["settings"]
    assert client.get(f"/api/v1/projects/{project.id}/mix/").json()["updated_at"] is None  # nothing saved


def test_a_preset_name_is_a_string_and_a_bitrate_one_of_the_numbers():
    project = project_create_ready(owner=user_create(), duration_s=1.0)
    client = signed_in(project.owner)

    preset = client.post(f"/api/v1/projects/{project.id}/presets/", {"name": 0, "settings": {}}, format="json")
    export = client.post(f"/api/v1/projects/{project.id}/exports/", {"format": "mp3", "bitrate_kbps": "192"},
                         format="json")  # fmt: skip

    assert (preset.status_code, list(preset.json()["extra"]["fields"])) == (400, ["name"])
    assert (export.status_code, list(export.json()["extra"]["fields"])) == (400, ["bitrate_kbps"])
    assert project.mix_presets.count() == 0 and project.exports.count() == 0


def test_a_stem_in_the_path_is_one_of_the_stem_kinds(schema):
    from domain.models import StemKind

    for suffix in ("", "preview/", "peaks/"):
        operation = schema["paths"][f"/api/v1/projects/{{project_id}}/stems/{{kind}}/{suffix}"]["get"]
        [kind] = [p for p in operation["parameters"] if p["name"] == "kind"]
        assert sorted(kind["schema"]["enum"]) == sorted(StemKind.values)


def test_what_the_plan_limits_is_documented_as_402(schema):
    paths = schema["paths"]

    assert "402" in paths["/api/v1/projects/"]["post"]["responses"]
    assert "402" in paths["/api/v1/projects/{project_id}/exports/"]["post"]["responses"]
    assert "402" in paths["/api/v1/projects/{project_id}/stems/archive/"]["get"]["responses"]
    assert "402" not in paths["/api/v1/projects/"]["get"]["responses"]
    assert paths["/api/v1/plans/"]["get"].get("security") in (None, [])
