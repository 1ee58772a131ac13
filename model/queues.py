"""The Dramatiq queues, named once: actors declare them, health and metrics report them.

Two queues so that two kinds of worker can be sized apart (DESIGN.md, Running): the
``gpu`` workers hold a model in memory and take the heavy work one job at a time; the
``cpu`` workers take the short jobs in parallel, so an export never waits behind a
20-minute separation.
"""

from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    """A queue's name is its value: ``manage.py rundramatiq --queues gpu`` selects ``Queue.GPU``."""

    #: Separation and transcription: model inference, one job per worker thread.
    GPU = "gpu"
    #: Analysis, previews, exports, remix: ffmpeg and NumPy work.
    CPU = "cpu"
    #: The same work for plans with priority: the workers of ``gpu`` (``cpu``) also consume
    #: ``gpu-priority`` (``cpu-priority``) and take its jobs first (a higher actor priority), and
    #: these jobs never wait behind a long queue of the others.
    GPU_PRIORITY = "gpu-priority"
    CPU_PRIORITY = "cpu-priority"
