"""``GET /health``: each dependency checked; 503 when one is down."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse

from domain.selectors import workers_seen_recently
from isomix.broker import queue_depth

#: Below this much free space the uploads and stems cannot be written.
MIN_FREE_DISK_BYTES = 1_000_000_000


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {}


def _broker() -> dict[str, Any]:
    return {"queues": {name: queue_depth(name) for name in ("gpu", "cpu")}}


def _channel_layer() -> dict[str, Any]:
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):  # lives in this process: up while we are
        return {"backend": type(layer).__name__}
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "health.ping"})
    async_to_sync(layer.receive)(channel)
    return {"backend": type(layer).__name__}


def _storage() -> dict[str, Any]:
    default_storage.exists("health")
    return {"backend": default_storage.__class__.__name__}


def _disk() -> dict[str, Any]:
    path = Path(settings.MEDIA_ROOT if _local_media() else settings.VAR_DIR).resolve()
    while not path.exists():  # a fresh install has not written its first file yet
        path = path.parent
    free = shutil.disk_usage(path).free
    if free < MIN_FREE_DISK_BYTES:
        raise OSError(f"only {free // 1_000_000} MB free")
    return {"free_bytes": free}


def _local_media() -> bool:
    try:
        default_storage.path("x")
    except NotImplementedError:
        return False
    return True


def _workers() -> dict[str, Any]:
    # Reported, never failing: a web process stays in rotation while workers restart.
    seen = workers_seen_recently(within_s=60)
    return {"seen_recently": len(seen), "queues": sorted({q for w in seen for q in w.queues.split(",") if q})}


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": _database,
    "broker": _broker,
    "channel_layer": _channel_layer,
    "storage": _storage,
    "disk": _disk,
    "workers": _workers,
}


def health(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        start = time.perf_counter()
        try:
            detail = {"status": "ok", **check()}
        except Exception as exc:  # reported, not raised: this view exists to say what is down
            detail = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
        detail["ms"] = round((time.perf_counter() - start) * 1000, 1)
        checks[name] = detail
    healthy = all(c["status"] == "ok" for c in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
