"""Production path faults: a worker SIGKILLed mid-job, Redis restarted mid-job. Nothing is lost."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.e2e.stack import STEMS, Stack

pytestmark = pytest.mark.e2e


def test_killed_worker_job_completes_on_a_new_worker(tmp_path):
    stack = Stack(tmp_path, ISOMIX_JOB_STALE_AFTER_S="3")
    try:
        first = stack.spawn("rundramatiq", "--queues", "gpu", "cpu", log="worker1.log")
        project_id = stack.upload(duration_s=150.0)
        stack.wait_running(project_id)

        stack.kill(first)
        stack.spawn("rundramatiq", "--queues", "gpu", "cpu", log="worker2.log")
        time.sleep(4)  # past ISOMIX_JOB_STALE_AFTER_S: the dead worker's job stopped heartbeating
        swept = stack.manage("housekeeping")
        project = stack.wait_finished(project_id)
        stems = stack.stem_files(project_id)
    finally:
        stack.close()

    assert "'requeued': 1" in swept
    assert project["status"] == "ready", project
    assert project["jobs"][0]["state"] == "done"
    assert stems == STEMS  # once each, no leftovers


def test_redis_restart_during_a_job_loses_nothing(tmp_path):
    stack = Stack(tmp_path)
    try:
        stack.spawn("rundramatiq", "--queues", "gpu", "cpu", log="worker.log")
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
