"""The product as real processes on loopback, for end-to-end and fault tests: ``bench.stack``'s.

The one addition: :meth:`Stack.upload` renders a song of known stems (``tests.audio``) first.
"""

from __future__ import annotations

from pathlib import Path

from bench.stack import WORKER_QUEUES, free_port, request, wait_health
from bench.stack import Stack as ProcessStack
from tests.audio import write_song

__all__ = ["STEMS", "WORKER_QUEUES", "Stack", "free_port", "request", "wait_health"]

STEMS = ["bass.flac", "drums.flac", "other.flac", "vocals.flac"]


class Stack(ProcessStack):
    @property
    def tmp(self) -> Path:
        """The stack's work folder (its logs, its var folder), by the name the tests use."""
        return self.workdir

    def upload(self, *, duration_s: float, seed: int = 0) -> str:
        """Render a ``duration_s`` song (``seed`` picks it) and upload it; the new project's id."""
        return self.upload_file(write_song(self.workdir / f"song{seed}.flac", duration_s=duration_s, seed=seed))
