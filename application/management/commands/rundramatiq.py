"""``manage.py rundramatiq --queues gpu``: a standalone worker process (production)."""

from __future__ import annotations

import signal
import threading

import dramatiq
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run a Dramatiq worker on the given queues until SIGTERM/SIGINT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queues", nargs="+", default=None, help="queues to consume (default: all)")
        parser.add_argument("--threads", type=int, default=1)

    def handle(self, *args, queues: list[str] | None, threads: int, **options) -> None:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        worker = dramatiq.Worker(dramatiq.get_broker(), queues=set(queues) if queues else None, worker_threads=threads)
        worker.start()
        self.stdout.write(f"Worker consuming {', '.join(sorted(queues or ['all queues']))} with {threads} thread(s)")
        stop.wait()
        worker.stop(timeout=30_000)
