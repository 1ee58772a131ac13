"""``manage.py runstudio``: the web server, and in the embedded default the worker beside it.

The web server is uvicorn (HTTP and WebSockets). It reads a request body only as fast as
the app asks for it (it pauses reading past 64 KiB, and answers ``Expect: 100-continue``
only when the app first reads), which is what lets :mod:`isomix.body_limit` refuse a body
over its limit before it is read; daphne read every body whole first.

Embedded default (``make run``): one process runs the server and the background worker
(threads consuming the broker's queues), so that the in-memory channel layer carries the
worker's progress events to the browser. Messages a stopped worker had taken are put
back first, so jobs left unfinished by a restart resume.

Production (compose's ``web`` service): ``--no-worker`` serves the web only, in
``--workers`` processes (``ISOMIX_WEB_PROCESSES``) sharing one listening socket.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import dramatiq
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

HOUSEKEEPING_EVERY_S = 30
ASGI_APP = "isomix.asgi:application"
#: Largest WebSocket message taken from a client: the progress socket only sends, so a
#: hostile client cannot make the server hold uvicorn's default 16 MiB per message.
WS_MAX_MESSAGE_BYTES = 64 * 1024


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


def server_options(*, host: str, port: int, workers: int) -> dict[str, Any]:
    """uvicorn's options for the studio: the one place the web server is configured."""
    trusted = list(settings.ISOMIX_TRUSTED_PROXIES)
    return {
        "host": host,
        "port": port,
        "workers": workers,
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        "ws_max_size": WS_MAX_MESSAGE_BYTES,
        # Channels' router has no lifespan protocol; without this uvicorn logs that at every start.
        "lifespan": "off",
        # X-Forwarded-For/-Proto only from the configured proxies. uvicorn's own default trusts
        # 127.0.0.1, which would let any local client claim any address.
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        # Django's LOGGING formats every line, uvicorn's access lines included.
        "log_config": None,
        "server_header": False,
    }


class Command(BaseCommand):
    help = "Run the web server, with the background worker beside it unless --no-worker (the embedded default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=settings.ISOMIX_WORKER_THREADS)
        parser.add_argument("--no-worker", action="store_true", help="serve the web only; jobs wait in the queue")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="web server processes (with --no-worker; default ISOMIX_WEB_PROCESSES)",
        )

    def handle(
        self, *args, host: str, port: int, threads: int, no_worker: bool, workers: int | None, **options
    ) -> None:
        import uvicorn

        from model.sqlite_broker import SQLiteBroker

        if workers is None:
            workers = settings.ISOMIX_WEB_PROCESSES if no_worker else 1
        if workers < 1:
            raise CommandError("--workers must be 1 or more.")
        if workers > 1 and not no_worker:
            # The worker's progress events reach browsers through the in-process channel layer.
            raise CommandError("Several web processes need --no-worker: the embedded worker serves one process.")
        worker = None
        if not no_worker:
            broker = dramatiq.get_broker()
            if isinstance(broker, SQLiteBroker):
                from model.services import jobs_orphaned_requeue

                # This process is the embedded default's only worker: what ran when it
                # stopped has no worker left, and a job never goes running → running.
                broker.recover()
                resumed = jobs_orphaned_requeue()
                if resumed:
                    self.stdout.write(f"Resuming {len(resumed)} unfinished job(s).")
            worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=500)
            worker.start()
            threading.Thread(target=_housekeeping_loop, name="housekeeping", daemon=True).start()
        where = "no worker" if worker is None else f"worker: {threads} thread(s)"
        processes = f"{workers} web process(es)"
        self.stdout.write(f"IsoMix Studio on http://{host}:{port}/ ({processes}, {where})", ending="\n")
        self.stdout.flush()
        try:
            # An import string, not the app: several processes each import it themselves.
            uvicorn.run(ASGI_APP, **server_options(host=host, port=port, workers=workers))
        finally:
            if worker is not None:
                worker.stop(timeout=5_000)
