"""Benchmarks of the production parts: the web tier on PostgreSQL and Redis, on loopback.

Started here, stopped here: throw-away PostgreSQL and Redis servers
(``scripts/services.sh``), and the web processes exactly as ``compose.yaml``'s ``web``
service starts them (its command and its ``ISOMIX_WEB_PROCESSES``), on a loopback port:
a ``bench.stack.Stack`` with ``compose=True``.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
import time
from pathlib import Path

from bench.run.studio import engine_env
from bench.run.table import Row
from bench.stack import USERNAME, WORKER_QUEUES, Stack, multipart_post

_WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""

_SEED = f"""
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from domain.models import Job, Project
user = get_user_model().objects.get(username={USERNAME!r})
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
project = Project.objects.create(owner=user, name="Bench", original_key="uploads/x/original.wav", sha256="0" * 64,
    format="wav", duration_s=180, sample_rate=44100, channels=2, size_bytes=1, status="processing")
Job.objects.create(project=project, kind="separate", state="running", progress=42, stage="separate")
print(session.session_key, project.id)
"""


class Production(Stack):
    """PostgreSQL + Redis + the web processes as compose runs them, with a user, a token, a session and a project."""

    def __init__(self, workdir: Path) -> None:
        # The web-tier rows send 95 MB (taken) and 150 MB (refused) bodies around a 100 MB server cap.
        super().__init__(workdir, compose=True, ISOMIX_MAX_UPLOAD_MB="100", **engine_env())
        try:
            self.session, self.project_id = self.manage("shell", "-c", _SEED).strip().splitlines()[-1].split()
        except BaseException:  # a half-started stack would keep its servers (and the next run's data) behind
            self.close()
            raise
        self.redis_url = self.env["REDIS_URL"]
        self.workers = self.web_processes


def _wrk(url: str, *, token: str, clients: int, seconds: int, workdir: Path) -> dict[str, float]:
    script = workdir / "report.lua"
    script.write_text(_WRK_REPORT)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script),
         "-H", f"Authorization: Token {token}", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    numbers = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    requests, duration_us, errors, bad_status, p50, p95, p99 = (int(n) for n in numbers.groups())
    return {"rps": requests / (duration_us / 1e6), "errors": errors + bad_status,
            "p50": p50 / 1000, "p95": p95 / 1000, "p99": p99 / 1000}  # fmt: skip


def bench_polling(rows: list[Row], prod: Production, *, clients: int = 50, seconds: int = 30) -> None:
    """The project status endpoint under ``clients`` pollers; the same load on a static file is the baseline."""
    status = _wrk(f"{prod.url}/api/v1/projects/{prod.project_id}/", token=prod.token, clients=clients,
                  seconds=seconds, workdir=prod.workdir)  # fmt: skip
    static = _wrk(f"{prod.url}/static/css/studio.css", token=prod.token, clients=clients, seconds=10,
                  workdir=prod.workdir)  # fmt: skip
    rows.append(
        Row(
            f"Status polling, {clients} clients × {seconds} s, {prod.workers} web processes + PostgreSQL",
            f"p50 {status['p50']:.0f} / p95 {status['p95']:.0f} / p99 {status['p99']:.0f} ms, "
            f"{status['rps']:.0f} req/s, {status['errors']} errors",
            "p95 ≤ 100 ms, ≥ 600 req/s, 0 errors",
            f"static file, same load: p95 {static['p95']:.0f} ms, {static['rps']:.0f} req/s",
            status["p95"] <= 100 and status["rps"] >= 600 and status["errors"] == 0,
        )
    )


async def _fanout(prod: Production, subscribers: int) -> list[float]:
    import websockets
    from channels_redis.core import RedisChannelLayer

    uri = f"ws://127.0.0.1:{prod.port}/ws/projects/{prod.project_id}/"
    headers = {"Cookie": f"sessionid={prod.session}", "Origin": prod.url}
    sockets = []
    for _ in range(subscribers):
        sockets.append(await websockets.connect(uri, additional_headers=headers, open_timeout=30))
    await asyncio.sleep(0.5)
    layer = RedisChannelLayer(hosts=[prod.redis_url])
    event = {"type": "job.progress", "project": prod.project_id, "job": "bench", "kind": "separate",
             "state": "running", "progress": 43, "stage": "separate", "project_status": "processing",
             "user_error": ""}  # fmt: skip

    async def receive(ws) -> float:
        json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        return time.perf_counter()

    waiters = [asyncio.ensure_future(receive(ws)) for ws in sockets]
    start = time.perf_counter()
    await layer.group_send(f"project.{prod.project_id}", event)
    arrivals = await asyncio.gather(*waiters)
    for ws in sockets:
        await ws.close()
    return [a - start for a in arrivals]


def bench_websockets(rows: list[Row], prod: Production) -> None:
    one = statistics.median(max(asyncio.run(_fanout(prod, 1))) for _ in range(3))
    latencies = asyncio.run(_fanout(prod, 200))
    worst = max(latencies)
    rows.append(
        Row(
            "Progress event to 200 WebSocket subscribers (Redis channel layer)",
            f"all 200 in {worst * 1000:.0f} ms (median {statistics.median(latencies) * 1000:.0f} ms)",
            "all within 1 s",
            f"1 subscriber: {one * 1000:.0f} ms",
            len(latencies) == 200 and worst <= 1.0,
        )
    )


def bench_recovery(rows: list[Row], prod: Production, song: Path) -> None:
    """SIGKILL the gpu worker mid-separation; a new worker and the housekeeping loop finish the job."""
    first = prod.spawn("rundramatiq", "--queues", *WORKER_QUEUES, log="worker1.log")
    keeper = prod.spawn("housekeeping", "--loop", "30", log="housekeeping.log")
    processes = [first, keeper]
    try:
        status, _ = multipart_post(f"{prod.url}/api/v1/projects/", token=prod.token, filename="song.wav",
                                   payload=song.read_bytes())  # fmt: skip
        assert status == 202, status
        project_id = prod.api("GET", "/api/v1/projects/?limit=1")["results"][0]["id"]
        while not ((p := prod.project(project_id))["jobs"][0]["state"] == "running" and p["jobs"][0]["progress"] >= 20):
            time.sleep(0.05)
        prod.kill(first)
        killed_at = time.perf_counter()
        processes.append(prod.spawn("rundramatiq", "--queues", *WORKER_QUEUES, log="worker2.log"))
        deadline = time.monotonic() + 900
        while (p := prod.project(project_id))["status"] != "ready":
            if time.monotonic() > deadline or p["status"] == "failed":
                raise RuntimeError(f"the job did not recover: {p}")
            time.sleep(0.5)
        recovered = time.perf_counter() - killed_at
        own = p["jobs"][0]["duration_s"]
    finally:
        for process in processes:
            prod.stop(process)
    rows.append(
        Row(
            "Recovery on PostgreSQL + Redis: gpu worker SIGKILLed → new worker → job done",
            f"{recovered:.0f} s from the kill",
            "≤ 2 min + the job's own time",
            f"the job's own run on the new worker: {own:.1f} s",
            recovered <= 120 + own,
        )
    )
