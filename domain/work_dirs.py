"""Temporary work folders that housekeeping can tell from the ones in use.

A job that is killed (SIGKILL, the OOM killer, a container stopped hard) never runs its
``finally`` blocks, so its temporary folder stays behind, often hundreds of MB of stems.
Age alone cannot say whether a folder is abandoned: a separation may run for an hour.
So the process that makes a folder holds an exclusive ``flock`` on a file inside it for
as long as it uses it. The kernel drops that lock when the process ends, however it
ends; a folder whose lock can be taken has no owner any more and can go at once.

Why a lock and not the creator's pid: pids are reused (in a container every restart
hands out the same small pids again), and a housekeeping process in another container
cannot see the worker's pids at all; a lock on a shared file system needs neither.
``flock`` (unlike ``fcntl`` record locks) belongs to the open file, so it also holds
against a housekeeping thread of the same process (the embedded ``runstudio``).

Folders without the owner file (made by code that does not use :func:`work_dir`) fall
back to an age rule: see :func:`work_dir_remove_if_abandoned`.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

#: Every work folder's name starts with this, then its kind and a dash.
PREFIX = "isomix-"
#: Held locked by the folder's owner; its text says who that is, for an operator.
OWNER_FILE = ".owner"
_OWNER_FILE_NEW = ".owner.new"


class WorkDirKind(StrEnum):
    """What a work folder is for. Housekeeping only ever removes folders of these kinds.

    A closed list on purpose: other ``isomix-*`` folders live in the same temporary
    folder (the tests' var folder, the test PostgreSQL's data) and must never be swept.
    """

    STEMS = "stems"
    EXPORT = "export"
    UPLOAD = "upload"
    COPY = "copy"
    REMIX = "remix"

    @property
    def prefix(self) -> str:
        return f"{PREFIX}{self.value}-"


@contextmanager
def work_dir(*, kind: WorkDirKind | str) -> Iterator[Path]:
    """A new, empty folder in :func:`tempfile.gettempdir`, removed with its content at the end.

    Use it where ``tempfile.TemporaryDirectory(prefix="isomix-<kind>-")`` was used; it
    yields a :class:`~pathlib.Path` instead of a ``str``. While the block runs the folder
    is locked as in use, so housekeeping leaves it alone however long the work takes.
    Raises ``ValueError`` for a kind that is not a :class:`WorkDirKind`.
    """
    kind = WorkDirKind(kind)
    path = Path(tempfile.mkdtemp(prefix=kind.prefix))
    fd: int | None = None
    try:
        fd = _owner_lock(path)
        yield path
    finally:
        # Removed while still locked: housekeeping never finds it half deleted and unowned.
        shutil.rmtree(path, ignore_errors=True)
        if fd is not None:
            os.close(fd)


def _owner_lock(path: Path) -> int:
    # Locked under a name housekeeping does not look at, then renamed into place (the lock
    # follows the file): there is no moment when the owner file exists unlocked.
    new = path / _OWNER_FILE_NEW
    fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"host={socket.gethostname()} pid={os.getpid()}\n".encode())
        os.rename(new, path / OWNER_FILE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def work_dir_candidates(*, root: Path) -> Iterator[Path]:
    """The folders directly under ``root`` that may be work folders of ours.

    Only real folders (never a symbolic link: ``/tmp`` is writable by everyone), owned by
    this user, named with a :class:`WorkDirKind` prefix.
    """
    prefixes = tuple(kind.prefix for kind in WorkDirKind)
    uid = os.getuid()
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return
    for entry in entries:
        if not entry.name.startswith(prefixes):
            continue
        try:
            if entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_uid == uid:
                yield Path(entry.path)
        except FileNotFoundError:  # removed by its owner meanwhile
            continue


def work_dir_remove_if_abandoned(*, path: Path, unmarked_older_than_s: float, now_s: float | None = None) -> bool:
    """Remove the work folder ``path`` if no live process can be using it; say whether it went.

    - With an owner file: removed when its lock can be taken (its owner is gone),
      whatever its age; kept while the owner holds the lock.
    - Without one (made by other code, or by a process killed between making the folder
      and locking it): removed once it has not changed for ``unmarked_older_than_s``,
      which the caller sets above the longest job's time limit.
    """
    try:
        fd = os.open(path / OWNER_FILE, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        now_s = time.time() if now_s is None else now_s
        try:
            age_s = now_s - path.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            return False
        if age_s < unmarked_older_than_s:
            return False
        shutil.rmtree(path, ignore_errors=True)
        return not path.exists()
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its owner is alive and working in it
        if not path.exists():  # its owner finished and removed it while we opened the file
            return False
        # Ours now: its owner cannot come back, and the lock keeps a second sweeper out.
        shutil.rmtree(path, ignore_errors=True)
        return not path.exists()
    finally:
        os.close(fd)
