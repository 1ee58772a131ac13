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
    dramatiq.set_broker(broker)
    return broker
