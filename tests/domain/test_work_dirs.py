"""Work folders: a killed job's folder is swept at once, one in use never, other folders never."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from domain.housekeeping import work_dirs_abandoned_delete
from domain.work_dirs import OWNER_FILE, WorkDirKind, work_dir

#: What the callers pass: far longer than any test takes.
UNMARKED_OLDER_THAN_S = 90 * 60
REPO_ROOT = Path(__file__).resolve().parents[2]


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _make_old(path: Path, *, age_s: float) -> None:
    then = time.time() - age_s
    os.utime(path, (then, then))


def test_work_dir_is_made_in_the_temporary_folder_and_removed_after(tmpdir_root):
    with work_dir(kind=WorkDirKind.STEMS) as path:
        (path / "vocals.flac").write_bytes(b"x" * 100)
        assert path.parent == tmpdir_root
        assert path.name.startswith("isomix-stems-")
        assert sorted(p.name for p in path.iterdir()) == [OWNER_FILE, "vocals.flac"]
        assert f"pid={os.getpid()}" in (path / OWNER_FILE).read_text()

    assert _tree(tmpdir_root) == []


def test_work_dir_is_removed_when_the_work_fails(tmpdir_root):
    with pytest.raises(RuntimeError), work_dir(kind="export") as path:
        (path / "mix.wav").write_bytes(b"x")
        raise RuntimeError("ffmpeg failed")

    assert _tree(tmpdir_root) == []


def test_work_dir_of_an_unknown_kind_is_refused_and_makes_nothing(tmpdir_root):
    with pytest.raises(ValueError), work_dir(kind="scratch"):
        pass

    assert _tree(tmpdir_root) == []


def test_folder_in_use_is_kept_however_old(tmpdir_root):
    with work_dir(kind=WorkDirKind.STEMS) as path:
        (path / "vocals.flac").write_bytes(b"x" * 100)
        _make_old(path, age_s=10 * UNMARKED_OLDER_THAN_S)
        before = _tree(tmpdir_root)

        removed = work_dirs_abandoned_delete(unmarked_older_than_s=UNMARKED_OLDER_THAN_S)

        assert removed == []
        assert _tree(tmpdir_root) == before


_KILLED_JOB = """
import sys, time
from pathlib import Path
from domain.work_dirs import work_dir
with work_dir(kind="stems") as path:
    (path / "vocals.flac").write_bytes(b"x" * 1000)
    print(path, flush=True)
    time.sleep(600)
"""


def test_folder_of_a_killed_job_is_removed_at_once(tmpdir_root):
    # A real process, killed as the OOM killer would: no finally block runs.
    job = subprocess.Popen(
        [sys.executable, "-c", _KILLED_JOB],
        cwd=REPO_ROOT,
        env={**os.environ, "TMPDIR": str(tmpdir_root)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        path = Path(job.stdout.readline().strip())
        assert work_dirs_abandoned_delete(unmarked_older_than_s=UNMARKED_OLDER_THAN_S) == []  # alive: kept
        assert (path / "vocals.flac").exists()
    finally:
        job.send_signal(signal.SIGKILL)
        job.wait(timeout=10)
        job.stdout.close()
    assert path.exists()  # left behind by the kill

    removed = work_dirs_abandoned_delete(unmarked_older_than_s=UNMARKED_OLDER_THAN_S)

    assert removed == [str(path)]
    assert _tree(tmpdir_root) == []


def test_folder_without_owner_file_goes_only_once_older_than_the_longest_job(tmpdir_root):
    old = tmpdir_root / "isomix-stems-abc123"
    fresh = tmpdir_root / "isomix-upload-def456"
    for folder in (old, fresh):
        folder.mkdir()
        (folder / "part.bin").write_bytes(b"x")
    _make_old(old, age_s=UNMARKED_OLDER_THAN_S + 60)
    _make_old(fresh, age_s=UNMARKED_OLDER_THAN_S - 60)

    removed = work_dirs_abandoned_delete(unmarked_older_than_s=UNMARKED_OLDER_THAN_S)

    assert removed == [str(old)]
    assert _tree(tmpdir_root) == ["isomix-upload-def456", "isomix-upload-def456/part.bin"]


def test_other_folders_and_links_are_never_touched(tmpdir_root, tmp_path):
    # The tests' var folder and the test PostgreSQL's data are isomix-* folders too.
    for name in ("isomix-tests-x1", "isomix-pg-0123456789ab", "isomix-bench-y2", "stems-isomix-z"):
        (tmpdir_root / name).mkdir()
        (tmpdir_root / name / "data").write_bytes(b"keep")
        _make_old(tmpdir_root / name, age_s=10 * UNMARKED_OLDER_THAN_S)
    (tmpdir_root / "isomix-copy-file").write_bytes(b"a file, not a folder")
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "precious").write_bytes(b"keep")
    (tmpdir_root / "isomix-export-link").symlink_to(target)
    before = _tree(tmpdir_root)

    removed = work_dirs_abandoned_delete(unmarked_older_than_s=0)

    assert removed == []
    assert _tree(tmpdir_root) == before
    assert (target / "precious").read_bytes() == b"keep"


def test_every_kind_is_swept(tmpdir_root):
    for kind in WorkDirKind:
        folder = tmpdir_root / f"isomix-{kind}-dead"
        folder.mkdir()
        (folder / OWNER_FILE).write_text("host=gone pid=1\n")  # its owner's lock died with it

    removed = work_dirs_abandoned_delete(unmarked_older_than_s=UNMARKED_OLDER_THAN_S)

    assert sorted(Path(p).name for p in removed) == sorted(f"isomix-{kind}-dead" for kind in WorkDirKind)
    assert _tree(tmpdir_root) == []
