"""Grain libraries, read from the storage once and kept near the workers that re-voice with them.

A library is stored as an ``.npz`` of plain arrays (never pickled) and always read back through
``GrainLibrary.from_npz`` (``allow_pickle=False``, every array checked). The cache holds those same
bytes: Redis in production (``REDIS_URL``: raw bytes through redis-py, not Django's cache, whose
values are pickled), an in-process store bounded by size in the embedded default. The key names
the library's storage key and when it was written, so a rebuilt library is never read stale.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from functools import cache

from django.conf import settings

from domain.models import StyleSound
from domain.services import storage_open_stream

logger = logging.getLogger(__name__)

#: How long Redis keeps a library nobody used (seconds); the largest library it keeps (bytes: the
#: Redis is the broker's too, so a long sound's library is read from the storage instead); the
#: in-process store's size (bytes).
REDIS_TTL_S = 60 * 60
REDIS_MAX_VALUE_BYTES = 8 * 1024 * 1024
LOCAL_MAX_BYTES = 256 * 1024 * 1024


class _LocalStore:
    """Least recently used first out, at most ``max_bytes`` of values."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        with self.lock:
            old = self.items.pop(key, None)
            self.size -= len(old) if old is not None else 0
            self.items[key] = value
            self.size += len(value)
            while self.size > self.max_bytes:
                _key, dropped = self.items.popitem(last=False)
                self.size -= len(dropped)


_local = _LocalStore(LOCAL_MAX_BYTES)


@cache
def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def _cache_key(style: StyleSound) -> str:
    return f"isomix:grains:{style.grains_key}:{style.updated_at.timestamp():.6f}"


def _cached(key: str) -> bytes | None:
    if not settings.REDIS_URL:
        return _local.get(key)
    try:
        return _redis().get(key)
    except Exception:  # the cache is an optimisation: a Redis blip reads the storage instead
        logger.warning("grain cache unavailable; reading the library from the storage", exc_info=True)
        return None


def _keep(key: str, value: bytes) -> None:
    if not settings.REDIS_URL:
        _local.set(key, value)
        return
    if len(value) > REDIS_MAX_VALUE_BYTES:
        return
    try:
        _redis().set(key, value, ex=REDIS_TTL_S)
    except Exception:
        logger.warning("grain cache unavailable; library not cached", exc_info=True)


def grain_library_bytes(style: StyleSound) -> bytes:
    """The ``.npz`` bytes of ``style``'s grain library (the style must be ready)."""
    key = _cache_key(style)
    data = _cached(key)
    if data is None:
        with storage_open_stream(style.grains_key) as stream:
            data = stream.read()
        _keep(key, data)
    return data


def grain_library_load(style: StyleSound):
    """``style``'s grain library as a ``GrainLibrary`` (checked array by array)."""
    from model.pipelines.remix import GrainLibrary

    return GrainLibrary.from_npz(grain_library_bytes(style))
