"""PostgreSQL stopped under a running web process: /health answers 503, then recovers."""

from __future__ import annotations

import pytest

from tests.e2e.stack import Stack, wait_health

pytestmark = pytest.mark.e2e


def test_health_is_503_while_postgres_is_down_and_recovers(tmp_path):
    stack = Stack(tmp_path)
    try:
        stack.services_cmd("stop")
        down = wait_health(stack.port, 503, 30)
        stack.services_cmd("start")
        up = wait_health(stack.port, 200, 60)
    finally:
        stack.close()

    assert down["checks"]["database"]["status"] == "error"
    assert down["checks"]["storage"]["status"] == "ok"
    assert up["checks"]["database"]["status"] == "ok"
