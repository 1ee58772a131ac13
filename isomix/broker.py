"""Chooses the Dramatiq broker from the settings: Redis in production, SQLite embedded."""

from __future__ import annotations

import dramatiq
from django.conf import settings


def broker_setup() -> dramatiq.Broker:
    """Install the broker named by ``ISOMIX_BROKER_URL`` as Dramatiq's global broker.

    Must run before any actor module is imported (the app config of ``model`` calls it).
    """
    url: str = settings.ISOMIX_BROKER_URL
    if url.startswith("redis://") or url.startswith("rediss://"):
        from dramatiq.brokers.redis import RedisBroker

        broker: dramatiq.Broker = RedisBroker(url=url)
    elif url.startswith("sqlite:///"):
        from isomix.sqlite_broker import SQLiteBroker

        broker = SQLiteBroker(path=url.removeprefix("sqlite:///"))
    elif url == "stub://":
        from dramatiq.brokers.stub import StubBroker

        broker = StubBroker()
    else:
        raise ValueError(f"ISOMIX_BROKER_URL {url!r} is neither redis://, sqlite:/// nor stub://")
    broker.add_middleware(DatabaseConnections())
    broker.add_middleware(WorkerHeartbeat())
    dramatiq.set_broker(broker)
    return broker


class DatabaseConnections(dramatiq.Middleware):
    """Each message starts and ends with usable database connections, as a request does."""

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        from django.db import close_old_connections

        close_old_connections()

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        from django.db import close_old_connections

        close_old_connections()

    after_skip_message = after_process_message


def queue_depth(queue_name: str, *, broker: dramatiq.Broker | None = None) -> int:
    """Messages waiting or running on ``queue_name`` (and its delay queue), on any of our brokers."""
    from dramatiq.common import dq_name

    broker = broker or dramatiq.get_broker()
    from isomix.sqlite_broker import SQLiteBroker

    if isinstance(broker, SQLiteBroker):
        return broker.pending(queue_name)
    from dramatiq.brokers.redis import RedisBroker

    if isinstance(broker, RedisBroker):
        return sum(int(broker.client.hlen(f"{broker.namespace}:{q}.msgs")) for q in (queue_name, dq_name(queue_name)))
    from dramatiq.brokers.stub import StubBroker

    if isinstance(broker, StubBroker):
        return sum(broker.queues[q].qsize() for q in (queue_name, dq_name(queue_name)) if q in broker.queues)
    raise TypeError(f"no queue depth for {type(broker).__name__}")


class WorkerHeartbeat(dramatiq.Middleware):
    """While a worker runs, it writes a heartbeat row every few seconds (see /health)."""

    EVERY_S = 10.0

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        import os
        import socket
        import threading

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
