"""The billing rows' pure helpers (no Django): Stripe's webhook signature, a realistic mix of
events for many users with the state each should end in, percentiles and the tally of a burst.
Tested by ``tests/bench/test_billing_bench.py``; the rows are in :mod:`bench.run.billing`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import Counter
from dataclasses import dataclass

WEBHOOK_SECRET = "whsec_bench_0123456789abcdef"
PRICE_IDS = {"month": "price_bench_pro_monthly", "year": "price_bench_pro_yearly"}
#: Stripe's webhook signing: HMAC-SHA256 of f"{t}.{body}", sent as ``t=<seconds>,v1=<hex>``.
SIGNATURE_SCHEME = "v1"


# ---------------------------------------------------------------- pure helpers


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0 < q ≤ 100) of ``values`` by nearest rank: a value that was measured.

    Raises ``ValueError`` on no values or a ``q`` out of range.
    """
    if not values or not 0 < q <= 100:
        raise ValueError(f"percentile of {len(values)} values at q={q}")
    ordered = sorted(values)
    return ordered[math.ceil(q / 100 * len(ordered)) - 1]


def stripe_signature(*, payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe would send with ``payload`` at ``timestamp`` (seconds)."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},{SIGNATURE_SCHEME}={digest}"


#: What happens to a user after signing up, by ``index % 20``: 8 cancel, 6 fail a payment and
#: recover, 3 renew, 3 only sign up. With 100 users: 300 + 80 + 90 + 30 = 500 events.
_STORIES = ["cancel"] * 8 + ["failed-then-paid"] * 6 + ["renew"] * 3 + ["signup"] * 3
#: How each story ends: the subscription's status after all its events.
STORY_END = {"cancel": "canceled", "failed-then-paid": "active", "renew": "active", "signup": "active"}
MONTH_S = 30 * 86400


def story_of(index: int) -> str:
    return _STORIES[index % len(_STORIES)]


def _subscription(*, sub: str, cus: str, user_id: str, interval: str, start: int, status: str, cancel: bool) -> dict:
    """A subscription object as the current API version sends it (its period on the item)."""
    end = start + (MONTH_S if interval == "month" else 12 * MONTH_S)
    price = {"id": PRICE_IDS[interval], "object": "price", "recurring": {"interval": interval, "interval_count": 1}}
    item = {"id": f"si_{sub[4:]}", "object": "subscription_item", "price": price, "quantity": 1,
            "current_period_start": start, "current_period_end": end}  # fmt: skip
    return {"id": sub, "object": "subscription", "customer": cus, "status": status,
            "cancel_at_period_end": cancel, "metadata": {"user_id": user_id},
            "items": {"object": "list", "data": [item]}}  # fmt: skip


def _invoice(*, n: int, sub: str, cus: str, user_id: str, reason: str, paid: bool) -> dict:
    details = {"subscription": sub, "metadata": {"user_id": user_id}}
    return {"id": f"in_{sub[4:]}_{n}", "object": "invoice", "customer": cus, "billing_reason": reason,
            "status": "paid" if paid else "open", "paid": paid,
            "parent": {"type": "subscription_details", "subscription_details": details}}  # fmt: skip


def _user_events(i: int, user_id: str, t0: int) -> list[tuple[str, int, dict]]:
    """``(type, created, object)`` of user number ``i``'s events: the sign-up at ``t0``, then their story."""
    ids = {"sub": f"sub_bench{i:04d}", "cus": f"cus_bench{i:04d}", "user_id": user_id}
    interval = "year" if i % 4 == 3 else "month"
    later, renewal = t0 + 86400 + 5 * i, t0 + MONTH_S

    def sub_at(period_start: int, status: str, cancel: bool = False) -> dict:
        return _subscription(**ids, interval=interval, start=period_start, status=status, cancel=cancel)

    def invoice(n: int, paid: bool) -> dict:
        return _invoice(n=n, **ids, reason="subscription_create" if n == 1 else "subscription_cycle", paid=paid)

    session = {"id": f"cs_bench{i:04d}", "object": "checkout.session", "mode": "subscription", "status": "complete",
               "payment_status": "paid", "client_reference_id": user_id, "customer": ids["cus"],
               "subscription": ids["sub"], "metadata": {"user_id": user_id}}  # fmt: skip
    signup = [("checkout.session.completed", session), ("customer.subscription.created", sub_at(t0, "active"))]
    if i % 3 == 0:  # the subscription's event before the session's, as Stripe often delivers them
        signup.reverse()
    stories = {
        "cancel": [("customer.subscription.updated", later, sub_at(t0, "active", cancel=True)),
                   ("customer.subscription.deleted", later + 3600, sub_at(t0, "canceled", cancel=True))],
        "failed-then-paid": [("invoice.payment_failed", renewal, invoice(2, paid=False)),
                             ("customer.subscription.updated", renewal + 1, sub_at(renewal, "past_due")),
                             ("invoice.paid", renewal + 86400, invoice(2, paid=True))],
        "renew": [("invoice.paid", renewal, invoice(2, paid=True)),
                  ("customer.subscription.updated", renewal + 1, sub_at(renewal, "active"))],
        "signup": [],
    }  # fmt: skip
    return [
        (signup[0][0], t0, signup[0][1]),
        (signup[1][0], t0 + 1, signup[1][1]),
        ("invoice.paid", t0 + 2, invoice(1, paid=True)),
        *stories[story_of(i)],
    ]


def stripe_event_mix(*, user_ids: list[int], start: int) -> list[dict]:
    """Stripe events for ``user_ids`` (see :data:`_STORIES`), in the order Stripe would deliver them.

    Every user signs up (``checkout.session.completed``, ``customer.subscription.created``,
    ``invoice.paid``; for one in three the subscription's event comes first), then lives the
    story of their index. User ``i`` signs up at ``start + 7 i`` seconds, so users interleave;
    events are JSON-ready dicts with unique ids, ordered by ``created``.
    """
    timeline = []
    for i, uid in enumerate(user_ids):
        timeline += _user_events(i, str(uid), start + 7 * i)
    timeline.sort(key=lambda entry: entry[1])  # stable: one user's events of one second stay in order
    return [
        {"id": f"evt_bench_{n:05d}", "object": "event", "api_version": "2026-10-28.endive", "created": at,
         "livemode": False, "pending_webhooks": 1, "type": kind, "request": {"id": None, "idempotency_key": None},
         "data": {"object": obj}}
        for n, (kind, at, obj) in enumerate(timeline, start=1)
    ]  # fmt: skip


@dataclass(frozen=True)
class Tally:
    """How a burst of uploads was answered: 202, 402 ``quota_exceeded``, and everything else."""

    accepted: int
    refused: int
    other: dict[str, int]

    @property
    def errors(self) -> int:
        return sum(self.other.values())


def tally(answers: list[tuple[int | None, str]]) -> Tally:
    """Count ``(status, code)`` answers; a status of ``None`` is a connection error named by ``code``."""
    accepted = refused = 0
    other: Counter[str] = Counter()
    for status, code in answers:
        if status == 202:
            accepted += 1
        elif status == 402 and code == "quota_exceeded":
            refused += 1
        else:
            other[f"{status} {code}".strip() if status is not None else code] += 1
    return Tally(accepted=accepted, refused=refused, other=dict(other))
