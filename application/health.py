"""``GET /health``: each dependency checked; 503 when one is down.

Anyone gets the verdict alone (``{"status": "ok"}``, or 503 with ``{"status": "down"}``),
which is all a load balancer needs. The detail (which dependency, its error text, queue
depths, free disk, worker count) tells an attacker what the deployment runs and when it
struggles, so only operators get it: see :func:`ops_request_allowed`, which ``/metrics``
uses too.
"""

from __future__ import annotations

import hmac
import ipaddress
import shutil
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse

from domain.selectors import workers_seen_recently
from model.broker import queue_depth
from model.queues import Queue

#: Below this much free space the uploads and stems cannot be written.
MIN_FREE_DISK_BYTES = 1_000_000_000


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {}


def _broker() -> dict[str, Any]:
    return {"queues": {str(queue): queue_depth(queue) for queue in Queue}}


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


def ops_request_allowed(request: HttpRequest) -> bool:
    """Whether ``request`` comes from an operator: ``/metrics`` and the detail of ``/health``.

    Either it carries ``Authorization: Bearer <ISOMIX_OPS_TOKEN>`` (when that is set), or
    its client address (``REMOTE_ADDR``, as the web server determined it) lies in one of
    ``ISOMIX_OPS_NETWORKS`` (loopback by default: a probe from inside the host or container).
    """
    token: str = settings.ISOMIX_OPS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        # Constant time: the comparison must not tell how much of a guess was right.
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # "::ffff:127.0.0.1" from a dual-stack socket
    return any(address in network for network in _ops_networks(tuple(settings.ISOMIX_OPS_NETWORKS)))


@lru_cache(maxsize=4)
def _ops_networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"ISOMIX_OPS_NETWORKS: {exc}") from exc


def health(request: HttpRequest) -> JsonResponse:
    checks = _run_checks()
    healthy = all(c["status"] == "ok" for c in checks.values())
    status = 200 if healthy else 503
    if not ops_request_allowed(request):
        return JsonResponse({"status": "ok" if healthy else "down"}, status=status)
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=status)


def _run_checks() -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        start = time.perf_counter()
        try:
            detail = {"status": "ok", **check()}
        except Exception as exc:  # reported, not raised: this view exists to say what is down
            detail = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
        detail["ms"] = round((time.perf_counter() - start) * 1000, 1)
        checks[name] = detail
    return checks
