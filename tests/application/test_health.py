"""``/health`` detail and ``/metrics`` are for operators only; the bare verdict stays public."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from application import health
from application.metrics import REQUESTS

pytestmark = pytest.mark.django_db

TOKEN = "ops-token-0123456789abcdef0123456789abcdef"
OUTSIDE = "203.0.113.7"


@pytest.fixture
def ops(settings):
    settings.ISOMIX_OPS_TOKEN = TOKEN
    settings.ISOMIX_OPS_NETWORKS = ["127.0.0.0/8", "::1/128", "10.20.0.0/16"]
    return settings


def _broken_broker() -> dict:
    raise ConnectionError("redis at 10.0.0.5:6379 refused")


def test_anyone_gets_the_bare_verdict(ops):
    response = Client(REMOTE_ADDR=OUTSIDE).get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_anyone_gets_503_down_without_saying_what_is_down(ops, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "broker", _broken_broker)

    response = Client(REMOTE_ADDR=OUTSIDE).get("/health")

    assert response.status_code == 503
    assert response.json() == {"status": "down"}
    assert b"redis" not in response.content


@pytest.mark.parametrize(
    ("address", "headers"),
    [
        ("127.0.0.1", {}),
        ("::1", {}),
        ("::ffff:127.0.0.1", {}),  # loopback seen through a dual-stack socket
        ("10.20.3.4", {}),  # a configured network (the Prometheus subnet)
        (OUTSIDE, {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}),
        (OUTSIDE, {"HTTP_AUTHORIZATION": f"bearer  {TOKEN} "}),
    ],
)
def test_operators_get_the_detail(ops, monkeypatch, address, headers):
    monkeypatch.setitem(health.CHECKS, "broker", _broken_broker)

    response = Client(REMOTE_ADDR=address).get("/health", **headers)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["broker"]["error"] == "ConnectionError: redis at 10.0.0.5:6379 refused"
    assert body["checks"]["database"]["status"] == "ok"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong-token"},
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN[:-1]}"},
        {"HTTP_AUTHORIZATION": f"Token {TOKEN}"},  # DRF's scheme, not ours
        {"HTTP_AUTHORIZATION": TOKEN},
        {"HTTP_X_FORWARDED_FOR": "127.0.0.1"},  # the header is not the address
    ],
)
def test_metrics_are_404_to_anyone_else(ops, headers):
    before = REQUESTS.labels("GET", "200")._value.get()

    response = Client(REMOTE_ADDR=OUTSIDE).get("/metrics", **headers)

    assert response.status_code == 404
    assert b"isomix_" not in response.content
    assert REQUESTS.labels("GET", "200")._value.get() == before  # nothing was served


def test_metrics_answer_the_token(ops):
    response = Client(REMOTE_ADDR=OUTSIDE).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert 'isomix_queue_depth{queue="gpu"} 0.0' in response.content.decode()
    assert 'isomix_queue_depth{queue="cpu"} 0.0' in response.content.decode()


def test_metrics_answer_a_configured_network(ops):
    assert Client(REMOTE_ADDR="10.20.255.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.21.0.1").get("/metrics").status_code == 404


def test_with_no_token_set_no_bearer_header_opens_the_detail(settings):
    settings.ISOMIX_OPS_TOKEN = ""

    response = Client(REMOTE_ADDR=OUTSIDE).get("/health", HTTP_AUTHORIZATION="Bearer ")

    assert response.json() == {"status": "ok"}


def test_the_default_is_loopback_only(settings):
    assert settings.ISOMIX_OPS_NETWORKS == ["127.0.0.0/8", "::1/128"]
    assert settings.ISOMIX_OPS_TOKEN == ""
    assert Client(REMOTE_ADDR="192.168.1.10").get("/metrics").status_code == 404
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200


def test_a_bad_network_setting_is_reported_by_name(settings):
    settings.ISOMIX_OPS_NETWORKS = ["10.0.0.0/33"]

    with pytest.raises(ImproperlyConfigured, match="ISOMIX_OPS_NETWORKS"):
        Client(REMOTE_ADDR=OUTSIDE).get("/health")
