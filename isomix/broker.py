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
