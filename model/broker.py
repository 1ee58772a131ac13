"""The Dramatiq broker: chosen from the settings, with the house middleware, and its queue depths.

Redis in production, a SQLite file in the embedded default (:mod:`model.sqlite_broker`),
Dramatiq's stub broker where a test asks for it. Every worker, whatever the broker, gets
usable database connections per message, a heartbeat row (``/health`` counts workers by
it) and a sweep of the work folders that killed jobs left behind.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import TYPE_CHECKING, Any

import dramatiq
from django.conf import settings
from dramatiq.common import dq_name
from dramatiq.middleware import TimeLimit

from model.queues import Queue

if TYPE_CHECKING:
    from dramatiq.brokers.redis import RedisBroker

logger = logging.getLogger(__name__)


def broker_setup() -> dramatiq.Broker:
    """Install the broker named by ``ISOMIX_BROKER_URL`` as Dramatiq's global broker.

    Must run before any actor module is imported (the app config of ``model`` calls it).
    """
    url: str = settings.ISOMIX_BROKER_URL
    if url.startswith("redis://") or url.startswith("rediss://"):
        from dramatiq.brokers.redis import RedisBroker

        # A worker that stops beating for heartbeat_timeout has its unacked messages put back
        # by the next worker that happens to run maintenance. That redelivery and the
        # stale-job sweep may both bring back one job: the actor's claim runs it once.
        broker: dramatiq.Broker = RedisBroker(
            url=url,
            heartbeat_timeout=int(settings.ISOMIX_BROKER_HEARTBEAT_TIMEOUT_S * 1000),
            maintenance_chance=settings.ISOMIX_BROKER_MAINTENANCE_CHANCE,
        )
    elif url.startswith("sqlite:///"):
        from model.sqlite_broker import SQLiteBroker

        broker = SQLiteBroker(path=url.removeprefix("sqlite:///"))
    elif url == "stub://":
        from dramatiq.brokers.stub import StubBroker

        broker = StubBroker()
    else:
        raise ValueError(f"ISOMIX_BROKER_URL {url!r} is neither redis://, sqlite:/// nor stub://")
    # Ours, not django-dramatiq's (which is not installed): one middleware doing this, not two.
    broker.add_middleware(DatabaseConnections())
    broker.add_middleware(WorkerHeartbeat())
    broker.add_middleware(WorkDirSweep())
    broker.add_middleware(AnalysisWarmUp())
    dramatiq.set_broker(broker)
    return broker


# ---------------------------------------------------------------- queue depth


def queue_depth(queue_name: Queue | str, *, broker: dramatiq.Broker | None = None) -> int:
    """Messages waiting, delayed or running on ``queue_name``, on any of our brokers.

    Read only: asking never changes the broker's state, so ``/health`` and ``/metrics``
    can ask as often as they are scraped.
    """
    broker = broker or dramatiq.get_broker()
    from model.sqlite_broker import SQLiteBroker

    if isinstance(broker, SQLiteBroker):
        return broker.pending(queue_name)
    from dramatiq.brokers.redis import RedisBroker

    if isinstance(broker, RedisBroker):
        return _redis_queue_depth(broker, queue_name)
    from dramatiq.brokers.stub import StubBroker

    if isinstance(broker, StubBroker):
        return sum(broker.queues[q].qsize() for q in (queue_name, dq_name(queue_name)) if q in broker.queues)
    raise TypeError(f"no queue depth for {type(broker).__name__}")


def redis_message_hash_keys(*, namespace: str, queue_name: str) -> tuple[str, str]:
    """The Redis hashes that hold the messages of ``queue_name`` and of its delay queue.

    The one place that knows RedisBroker's key layout (``dramatiq/brokers/redis/dispatch.lua``):
    ``$namespace:$queue.msgs`` maps a message id to the message from ``enqueue`` until
    ``ack`` or ``nack``, so its size counts waiting and running messages alike, across
    every worker. Dramatiq offers no public way to read a queue's size: ``join()`` uses
    the script's ``qsize`` command, but every dispatch of that script registers the caller
    as a worker in the heartbeat set and may run the dead-worker maintenance, which a
    health probe must not do. tests/model/test_broker.py checks this layout against a real
    Redis and against the script's own count, so a Dramatiq upgrade that moves it fails there.
    """
    return f"{namespace}:{queue_name}.msgs", f"{namespace}:{dq_name(queue_name)}.msgs"


def _redis_queue_depth(broker: RedisBroker, queue_name: str) -> int:
    pipe = broker.client.pipeline(transaction=False)
    for key in redis_message_hash_keys(namespace=broker.namespace, queue_name=queue_name):
        pipe.hlen(key)
    return sum(int(n) for n in pipe.execute())


def longest_time_limit_s(*, broker: dramatiq.Broker | None = None) -> float:
    """The longest time limit of the actors declared on ``broker``, in seconds.

    No job lives longer than this (Dramatiq's ``TimeLimit`` stops it), so housekeeping
    can size its "surely abandoned" margin from it.
    """
    broker = broker or dramatiq.get_broker()
    default_ms = next((m.time_limit for m in broker.middleware if isinstance(m, TimeLimit)), 600_000)
    limits_ms = [broker.get_actor(name).options.get("time_limit", default_ms) for name in broker.get_declared_actors()]
    return max(limits_ms, default=default_ms) / 1000


# ---------------------------------------------------------------- middleware


class DatabaseConnections(dramatiq.Middleware):
    """Each message starts and ends with usable database connections, as a request does."""

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        from django.db import close_old_connections

        close_old_connections()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.Message,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        from django.db import close_old_connections

        close_old_connections()

    after_skip_message = after_process_message


class WorkerHeartbeat(dramatiq.Middleware):
    """While a worker runs, it writes a heartbeat row every few seconds (see /health)."""

    EVERY_S = 10.0

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from django.db import connection
        from django.utils import timezone

        from domain.housekeeping import worker_beat

        name = f"{socket.gethostname()}:{os.getpid()}:{id(worker):x}"
        queues = sorted(worker.consumer_whitelist or broker.get_declared_queues())
        started = timezone.now()
        stop = threading.Event()
        worker._isomix_heartbeat_stop = stop

        def beat() -> None:
            try:
                while True:
                    try:
                        worker_beat(name=name, queues=queues, started_at=started)
                    except Exception:  # the database may be down for a moment; beat again later
                        connection.close()
                    if stop.wait(self.EVERY_S):
                        return
            finally:
                connection.close()

        threading.Thread(target=beat, name="worker-heartbeat", daemon=True).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        stop = getattr(worker, "_isomix_heartbeat_stop", None)
        if stop is not None:
            stop.set()


class AnalysisWarmUp(dramatiq.Middleware):
    """A worker that takes analysis jobs compiles librosa's numba code as it starts (several
    seconds), so the first song's analysis does not pay for it. In a thread: the worker takes
    other jobs meanwhile; an analysis that starts before it ends waits on numba's own lock."""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from django.conf import settings

        queues = worker.consumer_whitelist or broker.get_declared_queues()
        if not settings.ISOMIX_ANALYSIS_WARM_UP or not any(str(q).startswith("cpu") for q in queues):
            return

        def warm() -> None:
            from model.actors.karaoke import analysis_warm_up

            try:
                analysis_warm_up()
            except Exception:  # a job compiles what it needs anyway
                logger.exception("analysis warm-up failed")

        threading.Thread(target=warm, name="analysis-warm-up", daemon=True).start()


class WorkDirSweep(dramatiq.Middleware):
    """A worker removes abandoned work folders as it starts, and every few minutes after.

    A worker container usually has a temporary folder of its own that the housekeeping
    process cannot see; and the likeliest moment to find a killed job's folder is the
    restart that follows the kill. Safe beside running jobs: see :mod:`domain.work_dirs`.
    """

    EVERY_S = 600.0
    #: Added to the longest time limit before a folder without an owner file counts as
    #: abandoned: a job stuck in native code notices its time limit late.
    UNMARKED_MARGIN_S = 30 * 60.0

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        stop = threading.Event()
        worker._isomix_work_dir_sweep_stop = stop

        def sweep() -> None:
            while True:
                try:
                    work_dirs_sweep(broker=broker)
                except Exception:  # a sweep that fails is tried again; the worker goes on
                    logger.exception("work folder sweep failed")
                if stop.wait(self.EVERY_S):
                    return

        threading.Thread(target=sweep, name="work-dir-sweep", daemon=True).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        stop = getattr(worker, "_isomix_work_dir_sweep_stop", None)
        if stop is not None:
            stop.set()


def work_dirs_sweep(*, broker: dramatiq.Broker | None = None) -> list[str]:
    """Delete the abandoned work folders of this machine's temporary folder; return their paths."""
    from domain.housekeeping import work_dirs_abandoned_delete

    unmarked_older_than_s = longest_time_limit_s(broker=broker) + WorkDirSweep.UNMARKED_MARGIN_S
    removed = work_dirs_abandoned_delete(unmarked_older_than_s=unmarked_older_than_s)
    if removed:
        logger.info("removed %d abandoned work folder(s): %s", len(removed), ", ".join(removed))
    return removed
