"""The billing rows' helpers: percentiles, Stripe's signature, the event mix, the burst tally."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
import stripe

from bench.run.stripe_events import (
    STORY_END,
    WEBHOOK_SECRET,
    percentile,
    story_of,
    stripe_event_mix,
    stripe_signature,
    tally,
)


def test_percentile_is_a_measured_value_by_nearest_rank():
    values = [float(v) for v in range(100, 0, -1)]  # 100 … 1, unsorted on purpose

    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0


@pytest.mark.parametrize(("values", "q"), [([], 50), ([1.0], 0), ([1.0], 101)])
def test_percentile_refuses_no_values_or_a_q_out_of_range(values, q):
    with pytest.raises(ValueError):
        percentile(values, q)


def test_the_signature_is_the_one_the_stripe_sdk_verifies():
    body = json.dumps({"id": "evt_1", "object": "event"}).encode()

    header = stripe_signature(payload=body, secret=WEBHOOK_SECRET, timestamp=1_780_000_000)

    assert header.startswith("t=1780000000,v1=")
    assert stripe.WebhookSignature.verify_header(body.decode(), header, WEBHOOK_SECRET, tolerance=None)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body.decode(), header, "whsec_other", tolerance=None)


def test_the_mix_is_500_events_of_100_users_in_delivery_order():
    events = stripe_event_mix(user_ids=list(range(1, 101)), start=1_780_000_000)

    kinds = Counter(e["type"] for e in events)
    assert len(events) == 500
    assert len({e["id"] for e in events}) == 500
    assert [e["created"] for e in events] == sorted(e["created"] for e in events)
    assert kinds == {
        "checkout.session.completed": 100,
        "customer.subscription.created": 100,
        "invoice.paid": 100 + 30 + 15,
        "customer.subscription.updated": 40 + 30 + 15,
        "customer.subscription.deleted": 40,
        "invoice.payment_failed": 30,
    }
    assert Counter(STORY_END[story_of(i)] for i in range(100)) == {"active": 60, "canceled": 40}
    assert json.loads(json.dumps(events)) == events


def test_each_event_of_the_mix_says_something_to_the_studios_handler():
    from business.billing import event_fact

    events = stripe_event_mix(user_ids=list(range(1, 21)), start=1_780_000_000)

    facts = [event_fact(e) for e in events]
    assert all(f is not None and f.subscription.startswith("sub_bench") for f in facts)
    session = next(f for e, f in zip(events, facts, strict=True) if e["type"] == "checkout.session.completed")
    assert session.user_id in {str(u) for u in range(1, 21)} and session.customer.startswith("cus_bench")
    created = next(f for e, f in zip(events, facts, strict=True) if e["type"] == "customer.subscription.created")
    assert created.status == "active" and created.period is not None and created.interval in ("month", "year")


@pytest.mark.django_db
def test_the_mix_ends_each_story_in_its_state_through_the_webhook(settings):
    # Given 20 users (every story) and the mix signed with the webhook secret
    from django.contrib.auth import get_user_model

    from business.billing import webhook_handle
    from business.models import Subscription

    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    users = [get_user_model().objects.create_user(f"mix{i}") for i in range(20)]
    events = stripe_event_mix(user_ids=[u.pk for u in users], start=1_780_000_000)

    # When each is handled as the view hands it over
    results = Counter()
    for event in events:
        body = json.dumps(event).encode()
        header = stripe_signature(payload=body, secret=WEBHOOK_SECRET, timestamp=int(time.time()))
        results[webhook_handle(payload=body, signature=header)] += 1

    # Then every story ends where STORY_END says, and nothing was refused
    ends = {s.account.user_id: s.status for s in Subscription.objects.select_related("account")}
    assert ends == {u.pk: STORY_END[story_of(i)] for i, u in enumerate(users)}
    assert set(results) <= {"applied", "stale"}


def test_the_tally_counts_202_402_quota_and_everything_else():
    answers = [(202, "")] * 3 + [(402, "quota_exceeded")] * 2 + [(402, "plan_required"), (500, ""),
               (None, "ConnectionResetError")]  # fmt: skip

    counts = tally(answers)

    assert (counts.accepted, counts.refused, counts.errors) == (3, 2, 3)
    assert counts.other == {"402 plan_required": 1, "500": 1, "ConnectionResetError": 1}
