"""Production path faults: a worker SIGKILLed mid-job, Redis restarted mid-job. Nothing is lost."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.e2e.stack import STEMS, WORKER_QUEUES, Stack

pytestmark = pytest.mark.e2e


def test_killed_worker_job_runs_to_done_exactly_once_on_a_new_worker(tmp_path):
    # Both rescuers active: Dramatiq's own redelivery of a dead worker's message (heartbeat
    # timeout 2 s, maintenance on every fetch) and the stale-job sweep (3 s).
    stack = Stack(
        tmp_path,
        ISOMIX_JOB_STALE_AFTER_S="3",
        ISOMIX_BROKER_HEARTBEAT_TIMEOUT_S="2",
        ISOMIX_BROKER_MAINTENANCE_CHANCE="1000000",
    )
    try:
        first = stack.spawn("rundramatiq", "--queues", *WORKER_QUEUES, log="worker1.log")
        project_id = stack.upload(duration_s=150.0)
        stack.wait_running(project_id)

        stack.kill(first)
        stack.spawn("rundramatiq", "--queues", *WORKER_QUEUES, log="worker2.log")
        _wait_for_line(tmp_path / "worker2.log", "skipped: it is running", timeout_s=60)  # the redelivery
        time.sleep(4)  # past ISOMIX_JOB_STALE_AFTER_S: the dead worker's job stopped heartbeating
        swept = stack.manage("housekeeping")
        project = stack.wait_finished(project_id)
        stems = stack.stem_files(project_id)
    finally:
        stack.close()

    log = (tmp_path / "worker2.log").read_text()
    assert "'requeued': 1" in swept
    assert project["status"] == "ready", project
    assert project["jobs"][0]["state"] == "done"
    assert log.count("job separate started") == 1  # the redelivered message did not run it
    assert log.count("job separate done") == 1
    assert stems == STEMS  # once each, no leftovers


def _wait_for_line(path, text: str, *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in (path.read_text() if path.exists() else ""):
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never said {text!r}")
        time.sleep(0.2)


def test_redis_restart_during_a_job_loses_nothing(tmp_path):
    stack = Stack(tmp_path)
    try:
        stack.spawn("rundramatiq", "--queues", *WORKER_QUEUES, log="worker.log")
        during = stack.upload(duration_s=150.0)
        stack.wait_running(during)

        redis_port = stack.ports["ISOMIX_TEST_REDIS_PORT"]
        subprocess.run(["redis-cli", "-p", redis_port, "shutdown", "nosave"], check=False, capture_output=True)
        time.sleep(1)
        stack.services_cmd("start")  # Redis back (PostgreSQL is still up)
        finished = stack.wait_finished(during)
        after = stack.upload(duration_s=5.0, seed=1)  # and new work goes through the new Redis
        finished_after = stack.wait_finished(after, timeout_s=90)
        stems = stack.stem_files(during)
    finally:
        stack.close()

    assert finished["status"] == "ready", finished
    assert finished["jobs"][0]["state"] == "done"
    assert finished_after["status"] == "ready", finished_after
    assert stems == STEMS
