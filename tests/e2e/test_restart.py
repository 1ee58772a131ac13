"""The embedded studio killed mid-separation (SIGKILL) finishes the job once it is started again."""

from __future__ import annotations

import pytest

from tests.e2e.stack import STEMS, Stack

pytestmark = pytest.mark.e2e


def test_killed_mid_job_resumes_after_restart(tmp_path):
    stack = Stack(tmp_path, embedded=True)
    try:
        project_id = stack.upload(duration_s=150.0)
        stack.wait_running(project_id, timeout_s=60)
        stack.kill(stack.web)

        stack.web = stack.start_web()
        project = stack.wait_finished(project_id)
        stems = stack.stem_files(project_id)
    finally:
        stack.close()

    assert project["status"] == "ready", project
    job = project["jobs"][0]
    assert job["state"] == "done"
    assert [s["kind"] for s in project["stems"]] == ["vocals", "drums", "bass", "other"]
    assert stems == STEMS  # once each, no leftovers
