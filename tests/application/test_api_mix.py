"""``/api/v1/projects/{id}/mix/``: the mixer saved for its owner, restored on reload, reset."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from domain.models import MixState, Project
from tests.factories import project_create_ready, user_create
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db

AT_REST = {"gain_db": 0.0, "mute": False, "solo": False, "pan": 0.0}


@pytest.fixture
def project(user) -> Project:
    return project_create_ready(owner=user, duration_s=2.0)


def _url(project: Project) -> str:
    return f"/api/v1/projects/{project.id}/mix/"


def test_nothing_saved_gives_every_stem_at_rest(client, project):
    response = client.get(_url(project))

    assert response.status_code == 200
    assert response.json() == {
        "settings": {
            "master_gain_db": 0.0,
            "stems": {kind: AT_REST for kind in ("vocals", "drums", "bass", "other")},
            "tempo": 1.0,
            "transpose": 0,
            "loop": None,
        },
        "updated_at": None,
    }


def test_a_saved_mix_is_given_back_on_reload(client, project):
    settings = {
        "master_gain_db": -2.5,
        "stems": {"vocals": {"gain_db": -12.0, "mute": True}, "bass": {"solo": True, "pan": 0.25}},
        "tempo": 0.8,
        "transpose": -2,
        "loop": {"start_s": 0.5, "end_s": 1.5, "enabled": True},
    }

    saved = client.put(_url(project), {"settings": settings}, format="json")
    again = client.get(_url(project))

    assert saved.status_code == 200, saved.content
    assert again.json() == saved.json()
    body = again.json()
    assert body["updated_at"] is not None
    assert body["settings"]["stems"] == {
        "vocals": {"gain_db": -12.0, "mute": True, "solo": False, "pan": 0.0},
        "drums": AT_REST,
        "bass": {"gain_db": 0.0, "mute": False, "solo": True, "pan": 0.25},
        "other": AT_REST,
    }
    assert (body["settings"]["tempo"], body["settings"]["transpose"]) == (0.8, -2)
    assert body["settings"]["loop"] == {"start_s": 0.5, "end_s": 1.5, "enabled": True}
    assert MixState.objects.count() == 1


def test_delete_resets_to_the_defaults(client, project):
    client.put(_url(project), {"settings": {"tempo": 0.5}}, format="json")

    response = client.delete(_url(project))

    assert response.status_code == 204
    assert MixState.objects.count() == 0
    body = client.get(_url(project)).json()
    assert body["updated_at"] is None and body["settings"]["tempo"] == 1.0


@pytest.mark.parametrize(
    "bad",
    [
        {"tempo": 0.4},
        {"tempo": 1.6},
        {"tempo": "fast"},
        {"transpose": 13},
        {"transpose": 1.5},
        {"master_gain_db": 7},
        {"stems": {"vocals": {"gain_db": -61}}},
        {"stems": {"vocals": {"pan": "left"}}},
        {"stems": {"kazoo": {}}},
        {"stems": {"piano": {}}},  # a kind this 4-stem project does not have
        {"loop": {"start_s": 1.0, "end_s": 0.5}},
        {"loop": {"start_s": 1.0, "end_s": 1.05}},
        {"loop": {"start_s": -1.0, "end_s": 1.0}},
        {"loop": {"start_s": 1.0, "end_s": 9.0}},  # past the end of the 2-second song
        {"loop": {"start_s": 1.0}},
        {"tempo": "nan"},
    ],
)
def test_bad_settings_are_a_400_and_nothing_is_saved(client, project, bad):
    client.put(_url(project), {"settings": {"tempo": 0.9}}, format="json")

    response = client.put(_url(project), {"settings": bad}, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_input"
    assert set(body) == {"code", "message", "extra"} and body["message"]
    assert client.get(_url(project)).json()["settings"]["tempo"] == 0.9  # what was saved before stands


def test_a_body_without_settings_is_a_400(client, project):
    response = client.put(_url(project), {"tempo": 0.9}, format="json")

    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["settings"]
    assert MixState.objects.count() == 0


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_another_users_mix_is_404_and_untouched(client, project, method):
    client.put(_url(project), {"settings": {"tempo": 0.7}}, format="json")
    stranger = signed_in(user_create())

    response = getattr(stranger, method)(_url(project), {"settings": {"tempo": 1.2}}, format="json")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "extra": {}}
    assert client.get(_url(project)).json()["settings"]["tempo"] == 0.7


def test_signed_out_is_refused(project):
    response = APIClient().get(_url(project))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"
