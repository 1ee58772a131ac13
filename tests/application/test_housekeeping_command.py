"""``manage.py housekeeping``: one round also removes the work folders of killed jobs."""

from __future__ import annotations

import os
import time

import pytest

from application.management.commands.housekeeping import housekeeping_once
from domain.work_dirs import OWNER_FILE, work_dir

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_broker")]


def test_housekeeping_removes_abandoned_work_folders_and_keeps_the_rest(tmpdir_root):
    root = tmpdir_root
    killed = root / "isomix-stems-killed"
    killed.mkdir()
    (killed / OWNER_FILE).write_text("host=gone pid=1\n")
    unmarked = root / "isomix-export-unmarked"
    unmarked.mkdir()
    # Younger than separation's 60-minute limit plus the margin: a job may still use it.
    then = time.time() - 80 * 60
    os.utime(unmarked, (then, then))

    with work_dir(kind="upload") as running:
        report = housekeeping_once()

        assert report["work_dirs"] == 1
        assert sorted(p.name for p in root.iterdir()) == sorted(["isomix-export-unmarked", running.name])
