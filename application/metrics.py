"""``GET /metrics``: Prometheus metrics of the web process and of the work in the database.

Request counts and latencies are this process's own; jobs by state, job durations by
kind and queue depths are read from the database and the broker at scrape time, so
every web process reports the same figures for them.

Only operators may read them (:func:`application.health.ops_request_allowed`); anyone else
gets the site's ordinary 404, as for a path that does not exist: a 403 would confirm the
endpoint is there and invite guessing at the token, and the figures (request rates, queue
depths, job counts) say how busy the service is and when it is weak.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector

from application.health import ops_request_allowed
from domain.models import Job
from model.broker import queue_depth
from model.queues import Queue

REGISTRY = CollectorRegistry()
REQUESTS = Counter("isomix_http_requests", "HTTP requests served", ["method", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "isomix_http_request_seconds",
    "Time to answer an HTTP request",
    ["method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)


class _WorkCollector(Collector):
    def collect(self) -> Iterator:
        states = GaugeMetricFamily("isomix_jobs", "Jobs by kind and state", labels=["kind", "state"])
        for row in Job.objects.values("kind", "state").annotate(n=Count("id")):
            states.add_metric([row["kind"], row["state"]], row["n"])
        yield states
        durations = SummaryMetricFamily("isomix_job_duration_seconds", "Run time of finished jobs", labels=["kind"])
        for kind in Job.Kind.values:
            done = Job.objects.filter(kind=kind, state=Job.State.DONE, started_at__isnull=False,
                                      finished_at__isnull=False).only("started_at", "finished_at")  # fmt: skip
            seconds = [j.duration_s for j in done]
            durations.add_metric([kind], count_value=len(seconds), sum_value=sum(seconds))
        yield durations
        depth = GaugeMetricFamily("isomix_queue_depth", "Messages waiting or running", labels=["queue"])
        for queue in Queue:
            depth.add_metric([str(queue)], queue_depth(queue))
        yield depth


REGISTRY.register(_WorkCollector())


def metrics(request: HttpRequest) -> HttpResponse:
    if not ops_request_allowed(request):
        raise Http404
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


class RequestMetricsMiddleware:
    """Counts and times every request of this process."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        LATENCY.labels(request.method).observe(time.perf_counter() - start)
        REQUESTS.labels(request.method, str(response.status_code)).inc()
        return response
