"""Plans and billing: the quota check's cost on an upload, webhook handling, a limit under a burst.

- :func:`bench_quota_overhead`: ``business.quotas.quota_reserve`` timed alone, inside the kind of
  transaction the upload runs it in, against a ledger of a month's records; the whole upload
  (``model.services.project_upload``) with and without it is the baseline.
- :func:`bench_webhooks`: 500 Stripe events of ~100 users (sign-ups, cancellations, failed and
  recovered payments, renewals), signed as Stripe signs them, POSTed to the webhook in this
  process; the same requests with a bad signature (refused before any database work) are the
  baseline.
- :func:`bench_quota_burst`: 50 uploads at once over HTTP from one user whose plan takes 10 a
  day; the same 50 with no limit reached are the baseline.

The helpers at the top are pure (no Django) and tested (``tests/bench/test_billing_bench.py``);
Django is imported inside the ``bench_*`` functions, after ``bench.run.studio.django_setup``.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from bench.run.stripe_events import (
    PRICE_IDS,
    STORY_END,
    WEBHOOK_SECRET,
    Tally,
    percentile,
    story_of,
    stripe_event_mix,
    stripe_signature,
    tally,
)
from bench.run.studio import CACHE, bench_user
from bench.run.table import Row
from bench.stack import Stack

# ---------------------------------------------------------------- set-up


def plan_assign(user, *, slug: str, **limits) -> None:
    """Give ``user`` the plan ``slug`` (made from the Free plan's row with ``limits`` changed), as
    an operator's assignment does: the studio and the quotas then read it from the database."""
    from business.models import Plan
    from business.services import account_get_or_create, account_plan_sync

    plan = Plan.objects.filter(slug=slug).first()
    if plan is None:
        plan = Plan.objects.get(slug="free")
        plan.pk, plan.slug, plan.name, plan.is_default, plan.is_paid = None, slug, slug, False, False
    for field, value in limits.items():
        setattr(plan, field, value)
    plan.full_clean()
    plan.save()
    account = account_get_or_create(user=user)
    account.plan, account.plan_until = plan, None
    account.save(update_fields=["plan", "plan_until", "updated_at"])
    account_plan_sync(account=account)


#: Limits no bench upload reaches (the quota rows' users, so that only the limit under test bites).
UNLIMITED = {"uploads_per_day": 100_000, "separation_minutes_per_month": 1_000_000, "concurrent_jobs": 10_000,
             "max_upload_mb": 250, "max_duration_min": 60, "export_formats": ["mp3", "wav", "flac", "zip"],
             "mp3_max_kbps": 320}  # fmt: skip


def short_song(duration_s: float = 10.0) -> Path:
    """A ``duration_s`` stereo WAV (a chord and a little noise), cached in ``CACHE``."""
    import numpy as np
    import soundfile as sf

    path = CACHE / f"quota-{int(duration_s)}s.wav"
    if not path.exists():
        sr = 44100
        t = np.arange(int(duration_s * sr)) / sr
        tone = sum(0.15 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
        noise = 0.01 * np.random.default_rng(0).standard_normal(t.size)
        sf.write(str(path), np.stack([tone + noise, tone - noise], axis=1), sr, subtype="PCM_16")
    return path


def _ledger_seed(user, *, records: int) -> None:
    """``records`` committed usage records spread over this month so far (uploads and minutes)."""
    from django.utils import timezone

    from business.models import UsageRecord
    from business.periods import month_period
    from business.services import account_get_or_create

    account = account_get_or_create(user=user)
    now = timezone.now()
    start = month_period(now=now).start
    step = (now - start) / (records + 1)
    kinds = [(UsageRecord.Metric.UPLOADS, 1), (UsageRecord.Metric.SEPARATION_SECONDS, 720)]  # a 3-min song, 4 stems
    ledger = []
    for i in range(records):
        metric, amount = kinds[i % 2]
        at = start + step * (i + 1)
        ledger.append(UsageRecord(account=account, metric=metric, amount=amount, state=UsageRecord.State.COMMITTED,
                                  created_at=at, settled_at=at))  # fmt: skip
    UsageRecord.objects.bulk_create(ledger)


# ---------------------------------------------------------------- rows


def bench_quota_overhead(rows: list[Row], *, uploads: int = 50) -> None:
    from unittest import mock

    import dramatiq
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from business.models import UsageRecord
    from business.quotas import Reservation, quota_reserve
    from business.selectors import plan_limits_for_user
    from model import services
    from model.services import project_remove, project_upload

    user = bench_user("bench-quota")
    plan_assign(user, slug="bench-unlimited", **UNLIMITED)
    _ledger_seed(user, records=30)
    song = short_song(10.0)
    payload = song.read_bytes()
    amounts = {UsageRecord.Metric.UPLOADS: 1, UsageRecord.Metric.SEPARATION_SECONDS: 40}

    # quota_reserve alone, where the upload runs it: first in the transaction that records the
    # work. Rolled back each time, so every one sees the same ledger (30 records this month).
    reserve = []
    for _ in range(uploads):
        with transaction.atomic():
            start = time.perf_counter()
            quota_reserve(user=user, amounts=amounts)
            reserve.append(time.perf_counter() - start)
            transaction.set_rollback(True)

    # The whole upload, with the reservation and with it stubbed out (the limits read before), interleaved.
    limits = plan_limits_for_user(user=user)

    def no_reservation(**_kwargs) -> Reservation:
        return Reservation(records=[], limits=limits)

    def upload_timed(times: list[float]) -> None:
        start = time.perf_counter()
        projects.append(project_upload(owner=user, upload=SimpleUploadedFile(song.name, payload)))
        times.append(time.perf_counter() - start)

    with_quota, without_quota, projects = [], [], []
    for _ in range(uploads):
        upload_timed(with_quota)
        with mock.patch.object(services, "quota_reserve", no_reservation):
            upload_timed(without_quota)
    dramatiq.get_broker().flush_all()  # their separations are not this row's
    for project in projects:
        project_remove(project=project)

    p50, p95 = percentile(reserve, 50), percentile(reserve, 95)
    up_with, up_without = percentile(with_quota, 50), percentile(without_quota, 50)
    rows.append(
        Row(
            f"Quota check on an upload: quota_reserve (an upload + song minutes × stems, a job slot) alone, "
            f"first in the upload's transaction, ledger of 30 records this month (median/p95 of {uploads})",
            f"{p50 * 1000:.2f} / {p95 * 1000:.2f} ms",
            "≤ 5 ms (p95)",
            f"the whole upload of a 10-s WAV (project_upload, median of {uploads}): {up_with * 1000:.1f} ms with it, "
            f"{up_without * 1000:.1f} ms with it stubbed out",
            p95 <= 0.005,
        )
    )


@contextmanager
def _quiet(*loggers: str):
    """No warnings from ``loggers`` meanwhile (500 refused signatures would fill the bench's output)."""
    levels = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def bench_webhooks(rows: list[Row], *, users: int = 100) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    from business.models import StripeEvent, Subscription

    stripe_settings = {
        "STRIPE_SECRET_KEY": "sk_test_bench", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ISOMIX_STRIPE_PRICE_PRO_MONTHLY": PRICE_IDS["month"], "ISOMIX_STRIPE_PRICE_PRO_YEARLY": PRICE_IDS["year"],
    }  # fmt: skip
    user_model = get_user_model()
    people = [user_model.objects.create_user(f"bench-stripe-{i}", password=None) for i in range(users)]
    events = stripe_event_mix(user_ids=[u.pk for u in people], start=int(time.time()) - 40 * 86400)
    bodies = [json.dumps(event, separators=(",", ":")).encode() for event in events]
    client = Client()
    url = "/billing/stripe/webhook/"

    def post(body: bytes, secret: str) -> tuple[int, float]:
        header = stripe_signature(payload=body, secret=secret, timestamp=int(time.time()))
        start = time.perf_counter()
        response = client.post(url, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
        return response.status_code, time.perf_counter() - start

    signed, refused, statuses = [], [], Counter()
    with override_settings(**stripe_settings), _quiet("business.stripe_api", "django.request"):
        # Warm-up: the first requests pay for imports and the SDK's client (an event type the studio ignores).
        warm = {"id": "evt_warm", "object": "event", "type": "customer.created", "created": int(time.time()),
                "data": {"object": {"id": "cus_warm", "object": "customer"}}}  # fmt: skip
        for secret in ("whsec_wrong", WEBHOOK_SECRET, "whsec_wrong"):
            post(json.dumps(warm).encode(), secret)
        for body in bodies:  # interleaved, so that both see the same machine
            status, elapsed = post(body, WEBHOOK_SECRET)
            statuses[status] += 1
            signed.append(elapsed)
            status, elapsed = post(body, "whsec_wrong")
            statuses[f"bad signature {status}"] += 1
            refused.append(elapsed)
    ends = Counter(
        Subscription.objects.filter(account__user__in=people).values_list("status", flat=True)
    )  # fmt: skip
    expected = Counter(STORY_END[story_of(i)] for i in range(users))
    results = Counter(StripeEvent.objects.filter(id__startswith="evt_bench_").values_list("result", flat=True))
    right = ends == expected and statuses == {200: len(bodies), "bad signature 400": len(bodies)}
    p95 = percentile(signed, 95)
    rows.append(
        Row(
            f"Webhook handling: {len(bodies)} signed Stripe events of {users} users (sign-ups, cancellations, "
            "failed and recovered payments, renewals) POSTed in process, p95",
            f"{p95 * 1000:.1f} ms (median {percentile(signed, 50) * 1000:.1f} ms; "
            f"{', '.join(f'{n} {r}' for r, n in sorted(results.items()))}; end states "
            f"{'right' if ends == expected else f'WRONG {dict(ends)}'})",
            "p95 ≤ 50 ms",
            f"same requests, bad signature (400, no database work): p95 {percentile(refused, 95) * 1000:.1f} ms",
            p95 <= 0.050 and right,
        )
    )


def _upload(url: str, *, token: str, payload: bytes) -> tuple[int | None, str]:
    """POST ``payload`` as the upload form's file; ``(status, error code)``, or ``(None, the exception's name)``."""
    boundary = "isomixquota9c2e"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="song.wav"\r\n'
            "Content-Type: audio/wav\r\n\r\n").encode()  # fmt: skip
    body = head + payload + f"\r\n--{boundary}--\r\n".encode()
    parts = urlsplit(url)
    try:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        conn.request("POST", parts.path, body=body, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Token {token}",
        })  # fmt: skip
        response = conn.getresponse()
        answer = response.read()
        conn.close()
    except OSError as exc:  # a connection refused or reset is what this row counts as an error
        return None, type(exc).__name__
    try:
        code = json.loads(answer).get("code", "") if response.status >= 400 else ""
    except ValueError:
        code = "not JSON"
    return response.status, code


def _burst(url: str, *, token: str, payload: bytes, n: int) -> tuple[Tally, float]:
    """``n`` uploads at once from ``n`` threads (released together); the tally and the wall time."""
    answers: list[tuple[int | None, str]] = [(None, "not run")] * n
    gate = threading.Barrier(n + 1)

    def one(i: int) -> None:
        gate.wait()
        answers[i] = _upload(url, token=token, payload=payload)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    gate.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return tally(answers), time.perf_counter() - start


def bench_quota_burst(rows: list[Row], server: Stack, *, uploads: int = 50, limit: int = 10) -> None:
    from rest_framework.authtoken.models import Token

    from business.models import UsageRecord
    from domain.models import Project

    payload = short_song(10.0).read_bytes()
    url = server.url + "/api/v1/projects/"
    limited, free = bench_user("bench-burst-limited"), bench_user("bench-burst-free")
    plan_assign(limited, slug="bench-ten-a-day", **{**UNLIMITED, "uploads_per_day": limit})
    plan_assign(free, slug="bench-unlimited", **UNLIMITED)

    counts, wall = _burst(url, token=Token.objects.get_or_create(user=limited)[0].key, payload=payload, n=uploads)
    base, base_wall = _burst(url, token=Token.objects.get_or_create(user=free)[0].key, payload=payload, n=uploads)
    projects = Project.objects.filter(owner=limited).count()
    reserved = UsageRecord.objects.filter(
        account__user=limited, metric=UsageRecord.Metric.UPLOADS, state=UsageRecord.State.RESERVED
    ).count()

    def said(t: Tally) -> str:
        other = "".join(f": {n}× {what}" for what, n in sorted(t.other.items()))
        return f"{t.accepted}× 202, {t.refused}× 402 quota_exceeded, {t.errors} errors{other}"

    rows.append(
        Row(
            f"{uploads} concurrent uploads over HTTP against a limit of {limit} a day (one user, 10-s WAV, "
            "runstudio on SQLite)",
            f"{said(counts)}; left: {projects} projects, {reserved} reserved upload records ({wall:.1f} s)",
            f"exactly {limit}× 202, {uploads - limit}× 402, 0 errors; {limit} projects and records",
            f"same {uploads} with no limit reached: {said(base)} ({base_wall:.1f} s)",
            counts.accepted == limit
            and counts.refused == uploads - limit
            and counts.errors == 0
            and projects == limit
            and reserved == limit
            and base.accepted == uploads,
        )
    )
