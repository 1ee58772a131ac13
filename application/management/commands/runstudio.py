"""``manage.py runstudio``: the whole product in one process, for the embedded default.

Starts the background worker (threads consuming the broker's queues) and the daphne
web server (HTTP and WebSockets) side by side, so that the in-memory channel layer
carries the worker's progress events to the browser. Messages a stopped worker had
taken are put back first, so jobs left unfinished by a restart resume.
"""

from __future__ import annotations

import logging
import threading
import time

import dramatiq
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

HOUSEKEEPING_EVERY_S = 30


def _housekeeping_loop() -> None:
    from django.db import close_old_connections

    from application.management.commands.housekeeping import housekeeping_once

    while True:
        time.sleep(HOUSEKEEPING_EVERY_S)
        try:
            housekeeping_once()
        except Exception:  # the next round tries again; the web and the worker go on
            logging.getLogger(__name__).exception("housekeeping failed")
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = "Run the web server and the background worker together (the embedded default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=settings.ISOMIX_WORKER_THREADS)
        parser.add_argument("--no-worker", action="store_true", help="serve the web only; jobs wait in the queue")

    def handle(self, *args, host: str, port: int, threads: int, no_worker: bool, **options) -> None:
        from daphne.cli import CommandLineInterface

        from isomix.sqlite_broker import SQLiteBroker

        worker = None
        if not no_worker:
            broker = dramatiq.get_broker()
            if isinstance(broker, SQLiteBroker):
                resumed = broker.recover()
                if resumed:
                    self.stdout.write(f"Resuming {resumed} unfinished job(s).")
            worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=500)
            worker.start()
            threading.Thread(target=_housekeeping_loop, name="housekeeping", daemon=True).start()
        where = "no worker" if worker is None else f"worker: {threads} thread(s)"
        self.stdout.write(f"IsoMix Studio on http://{host}:{port}/ ({where})", ending="\n")
        self.stdout.flush()
        try:
            CommandLineInterface().run(["-b", host, "-p", str(port), "--proxy-headers", "isomix.asgi:application"])
        finally:
            if worker is not None:
                worker.stop(timeout=5_000)
