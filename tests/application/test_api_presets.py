"""``/api/v1/projects/{id}/presets/`` and ``/api/v1/presets/{id}/``: named mixes of a song."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from domain.mix import MIX_PRESETS_MAX, MixSettings
from domain.models import MixPreset, Project
from tests.factories import mix_preset_create, project_create_ready, user_create
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(user) -> Project:
    return project_create_ready(owner=user, duration_s=1.0, kinds=("vocals", "drums"))


def _url(project: Project) -> str:
    return f"/api/v1/projects/{project.id}/presets/"


def test_a_preset_is_created_with_its_settings(client, project):
    body = {"name": "  Practice: no drums ", "settings": {"stems": {"drums": {"mute": True}}, "tempo": 0.8}}

    response = client.post(_url(project), body, format="json")

    assert response.status_code == 201, response.content
    preset = response.json()
    assert set(preset) == {"id", "name", "settings", "created_at", "updated_at"}
    assert preset["name"] == "Practice: no drums"
    assert preset["settings"]["stems"]["drums"] == {"gain_db": 0.0, "mute": True, "solo": False, "pan": 0.0}
    assert list(preset["settings"]["stems"]) == ["vocals", "drums"]
    assert preset["settings"]["tempo"] == 0.8
    assert MixPreset.objects.get().project_id == project.id


def test_saving_a_name_again_overwrites_it(client, project):
    first = client.post(_url(project), {"name": "Slow", "settings": {"tempo": 0.6}}, format="json").json()

    response = client.post(_url(project), {"name": "Slow", "settings": {"tempo": 0.7}}, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == first["id"]
    assert response.json()["settings"]["tempo"] == 0.7
    assert MixPreset.objects.count() == 1


def _queries_listing(client, project: Project) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(project))
    assert response.status_code == 200
    return len(queries), [p["name"] for p in response.json()["results"]]


def test_the_list_is_newest_first_with_a_fixed_number_of_queries(client, project):
    mix_preset_create(project=project, name="a")
    mix_preset_create(project=project_create_ready(owner=project.owner, duration_s=0.5), name="elsewhere")
    one, _ = _queries_listing(client, project)
    for name in ("b", "c"):
        mix_preset_create(project=project, name=name, settings=MixSettings(transpose=len(name)))

    three, names = _queries_listing(client, project)

    assert names == ["c", "b", "a"]
    assert three == one  # no query per preset


def test_past_the_limit_a_new_name_is_refused(client, project):
    for i in range(MIX_PRESETS_MAX):
        mix_preset_create(project=project, name=f"p{i}")

    refused = client.post(_url(project), {"name": "one too many", "settings": {}}, format="json")
    overwrite = client.post(_url(project), {"name": "p3", "settings": {"tempo": 1.5}}, format="json")

    assert refused.status_code == 400
    assert refused.json()["code"] == "preset_limit"
    assert refused.json()["extra"] == {"max": MIX_PRESETS_MAX}
    assert overwrite.status_code == 200
    assert MixPreset.objects.count() == MIX_PRESETS_MAX


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "settings": {}},
        {"name": "   ", "settings": {}},
        {"name": "x" * 81, "settings": {}},
        {"name": "bad\x00name", "settings": {}},
        {"settings": {}},
        {"name": "no settings"},
        {"name": "loud", "settings": {"master_gain_db": 12}},
        {"name": "kazoo", "settings": {"stems": {"bass": {}}}},  # this project has no bass
        {"name": 7, "settings": {"loop": {"start_s": 0.2, "end_s": 5.0}}},
    ],
)
def test_bad_presets_are_refused_and_nothing_is_saved(client, project, body):
    response = client.post(_url(project), body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_input"
    assert MixPreset.objects.count() == 0


def test_a_preset_is_deleted(client, project):
    keep = mix_preset_create(project=project, name="keep")
    drop = mix_preset_create(project=project, name="drop")

    response = client.delete(f"/api/v1/presets/{drop.id}/")

    assert response.status_code == 204
    assert list(MixPreset.objects.all()) == [keep]
    assert client.delete(f"/api/v1/presets/{drop.id}/").status_code == 404


def test_another_users_presets_are_404_and_untouched(project):
    preset = mix_preset_create(project=project, name="mine")
    stranger = signed_in(user_create())

    listed = stranger.get(_url(project))
    created = stranger.post(_url(project), {"name": "theirs", "settings": {}}, format="json")
    deleted = stranger.delete(f"/api/v1/presets/{preset.id}/")

    assert [listed.status_code, created.status_code, deleted.status_code] == [404, 404, 404]
    assert deleted.json() == {"code": "not_found", "message": "Not found.", "extra": {}}
    assert list(MixPreset.objects.all()) == [preset]
