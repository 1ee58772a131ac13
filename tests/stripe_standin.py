"""A local stand-in of the Stripe API, webhook signing, and Stripe-shaped events, for the tests.

The studio's own Stripe code runs unchanged: the SDK is pointed at the stand-in through
``ISOMIX_STRIPE_API_BASE`` (its ``api`` base address) and speaks HTTP to it on loopback. The
stand-in answers the calls the studio makes (``POST /v1/customers``, ``/v1/checkout/sessions``,
``/v1/billing_portal/sessions``, ``DELETE /v1/subscriptions/{id}``) with objects shaped like
Stripe's, records every request, and can be told to fail as Stripe does (a 500 ``api_error``, a
402 ``card_error``). Webhook payloads are signed here the way Stripe signs them, written from
Stripe's description of the scheme rather than taken from the SDK that checks them.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.helpers import free_port

SECRET_KEY = "sk_test_51IsoMixStandInSecretKey000000000000"
WEBHOOK_SECRET = "whsec_isomix_standin_webhook_secret"
PRICE_MONTHLY = "price_1ProMonthlyStandIn"
PRICE_YEARLY = "price_1ProYearlyStandIn"
#: Newer API versions (2025-03-31 "basil" on) put the current period on the subscription item
#: and the subscription of an invoice under ``parent.subscription_details``.
API_VERSION = "2025-03-31.basil"
#: Older ones have both at the top level of the object.
OLD_API_VERSION = "2024-06-20"

_seq = itertools.count(1)


def _token(prefix: str) -> str:
    return f"{prefix}_{next(_seq):06d}{hashlib.sha256(str(time.time_ns()).encode()).hexdigest()[:16]}"


@dataclass
class Recorded:
    """One request the stand-in received: form or query parameters as the SDK encoded them
    (``metadata[user_id]``, ``line_items[0][price]``)."""

    method: str
    path: str
    params: dict[str, str]
    authorization: str
    idempotency_key: str


@dataclass
class _Failure:
    status: int
    times: int
    retry: bool
    path: str | None


@dataclass
class StripeStandIn:
    port: int = field(default_factory=free_port)
    requests: list[Recorded] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    _replies: dict[str, tuple[int, dict]] = field(default_factory=dict)
    _missing: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail(self, *, status: int = 500, times: int = 1_000_000, retry: bool = False, path: str | None = None) -> None:
        """Answer the next ``times`` requests (to ``path`` only, if given) with a Stripe error of
        ``status`` (500: ``api_error``; 402: a declined card). ``retry``: without
        ``Stripe-Should-Retry: false``, so that the SDK retries it."""
        self._failures.append(_Failure(status=status, times=times, retry=retry, path=path))

    def forget(self, subscription_id: str) -> None:
        """Stripe no longer knows ``subscription_id`` (``resource_missing``)."""
        self._missing.add(subscription_id)

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    def start(self) -> StripeStandIn:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="stripe-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- answers

    def answer(self, method: str, path: str, params: dict[str, str], headers: Any) -> tuple[int, dict, dict]:
        authorization = headers.get("Authorization", "")
        idempotency_key = headers.get("Idempotency-Key", "")
        with self._lock:
            self.requests.append(Recorded(method, path, params, authorization, idempotency_key))
            if not authorization.startswith("Bearer sk_test_"):
                return 401, _error("invalid_request_error", "Invalid API Key provided: sk_****"), {}
            failure = next((f for f in self._failures if f.path in (None, path)), None)
            if failure is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                headers_out = {} if failure.retry else {"Stripe-Should-Retry": "false"}
                if failure.status == 402:
                    body = _error("card_error", "Your card was declined.", code="card_declined")
                    body["error"]["decline_code"] = "generic_decline"
                    return 402, body, headers_out
                return failure.status, _error("api_error", "Something went wrong on Stripe's end."), headers_out
            # Stripe's idempotency: the same key answers the same object again.
            if idempotency_key and method == "POST" and idempotency_key in self._replies:
                status, body = self._replies[idempotency_key]
                return status, body, {"Idempotent-Replayed": "true"}
            status, body = self._route(method, path, params)
            if idempotency_key and method == "POST":
                self._replies[idempotency_key] = (status, body)
            return status, body, {}

    def _route(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict]:
        now = int(time.time())
        if (method, path) == ("POST", "/v1/customers"):
            return 200, {
                "id": _token("cus"), "object": "customer", "address": None, "balance": 0, "created": now,
                "currency": None, "default_source": None, "delinquent": False, "description": None,
                "email": params.get("email"), "invoice_prefix": "A1B2C3D4",
                "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None},
                "livemode": False, "metadata": _sub(params, "metadata"), "name": params.get("name"),
                "phone": None, "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": None,
            }  # fmt: skip
        if (method, path) == ("POST", "/v1/checkout/sessions"):
            session = _token("cs_test")
            return 200, {
                "id": session, "object": "checkout.session", "url": f"https://checkout.stripe.com/c/pay/{session}",
                "mode": params.get("mode"), "status": "open", "payment_status": "unpaid",
                "customer": params.get("customer"), "client_reference_id": params.get("client_reference_id"),
                "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
                "metadata": _sub(params, "metadata"), "subscription": None, "invoice": None, "currency": "usd",
                "locale": params.get("locale"), "created": now, "expires_at": now + 86400, "livemode": False,
            }  # fmt: skip
        if (method, path) == ("POST", "/v1/billing_portal/sessions"):
            return 200, {
                "id": _token("bps"), "object": "billing_portal.session", "configuration": "bpc_1StandIn",
                "created": now, "customer": params.get("customer"), "flow": None, "livemode": False,
                "locale": None, "on_behalf_of": None, "return_url": params.get("return_url"),
                "url": f"https://billing.stripe.com/p/session/test_{_token('ps')}",
            }  # fmt: skip
        if method == "DELETE" and path.startswith("/v1/subscriptions/"):
            subscription = path.rsplit("/", 1)[-1]
            if subscription in self._missing:
                return 404, _error(
                    "invalid_request_error", f"No such subscription: '{subscription}'", code="resource_missing"
                )
            return 200, subscription_object(
                id=subscription, customer="cus_unknown", user_id="", status="canceled", canceled_at=now
            )
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path}).")


def _error(kind: str, message: str, *, code: str | None = None) -> dict:
    error: dict[str, Any] = {"type": kind, "message": message, "request_log_url": None}
    if code is not None:
        error["code"] = code
    return {"error": error}


def _sub(params: dict[str, str], name: str) -> dict[str, str]:
    """``metadata[user_id]=7`` → ``{"user_id": "7"}``."""
    prefix = f"{name}["
    return {k[len(prefix) : -1]: v for k, v in params.items() if k.startswith(prefix) and k.count("[") == 1}


def _handler(standin: StripeStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode() if length else ""
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            params.update(parse_qsl(form, keep_blank_values=True))
            status, body, headers = standin.answer(self.command, url.path, params, self.headers)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", _token("req"))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@pytest.fixture(name="stripe_standin")
def stripe_standin_fixture(settings):
    """``stripe_standin``: billing on, every Stripe call going to a fresh stand-in (whose
    ``requests`` a test reads). Import ``stripe_standin_fixture`` into a test module to use it."""
    standin = StripeStandIn().start()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.ISOMIX_STRIPE_PRICE_PRO_MONTHLY = PRICE_MONTHLY
    settings.ISOMIX_STRIPE_PRICE_PRO_YEARLY = PRICE_YEARLY
    settings.ISOMIX_STRIPE_API_BASE = standin.url
    yield standin
    standin.stop()


# ---------------------------------------------------------------- webhooks


def stripe_signed(payload: dict, secret: str = WEBHOOK_SECRET, *, timestamp: int | None = None) -> tuple[bytes, str]:
    """``payload`` as Stripe sends it: the JSON body and its ``Stripe-Signature`` header
    (``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the endpoint's secret>``)."""
    body = json.dumps(payload, indent=2).encode()
    t = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={t},v1={signature}"


def event(kind: str, obj: dict, *, created: int, event_id: str | None = None, api_version: str = API_VERSION) -> dict:
    """A webhook event (a v1 "snapshot" event) of type ``kind`` about ``obj``."""
    return {
        "id": event_id or _token("evt"), "object": "event", "api_version": api_version, "created": created,
        "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
        "request": {"id": _token("req"), "idempotency_key": None}, "type": kind,
    }  # fmt: skip


def checkout_completed(
    *, user_id: int | str, customer: str, subscription: str, created: int, event_id: str | None = None
) -> dict:
    session = _token("cs_test")
    obj = {
        "id": session, "object": "checkout.session", "mode": "subscription", "status": "complete",
        "payment_status": "paid", "client_reference_id": str(user_id), "customer": customer,
        "subscription": subscription, "metadata": {"user_id": str(user_id)}, "currency": "usd",
        "amount_total": 900, "url": None, "created": created - 60, "livemode": False,
        "success_url": "http://testserver/account/?checkout=done", "cancel_url": "http://testserver/pricing/",
    }  # fmt: skip
    return event("checkout.session.completed", obj, created=created, event_id=event_id)


def subscription_object(
    *, id: str, customer: str, user_id: int | str, status: str, interval: str = "month",
    period_start: int | None = None, period_end: int | None = None, cancel_at_period_end: bool = False,
    canceled_at: int | None = None, api_version: str = API_VERSION,
) -> dict:  # fmt: skip
    start = period_start if period_start is not None else int(time.time())
    end = period_end if period_end is not None else start + (31 if interval == "month" else 365) * 86400
    price = PRICE_MONTHLY if interval == "month" else PRICE_YEARLY
    item = {
        "id": _token("si"), "object": "subscription_item", "quantity": 1, "subscription": id,
        "price": {
            "id": price, "object": "price", "active": True, "currency": "usd", "product": "prod_1ProStandIn",
            "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"},
            "type": "recurring", "unit_amount": 900 if interval == "month" else 9000,
        },
    }  # fmt: skip
    obj = {
        "id": id, "object": "subscription", "customer": customer, "status": status,
        "cancel_at_period_end": cancel_at_period_end, "cancel_at": end if cancel_at_period_end else None,
        "canceled_at": canceled_at, "ended_at": canceled_at if status == "canceled" else None,
        "collection_method": "charge_automatically", "created": start, "currency": "usd",
        "items": {
            "object": "list", "data": [item], "has_more": False, "url": f"/v1/subscription_items?subscription={id}",
        },
        "latest_invoice": _token("in"), "livemode": False, "metadata": {"user_id": str(user_id)} if user_id else {},
        "start_date": start, "trial_end": None, "trial_start": None,
    }  # fmt: skip
    if api_version == OLD_API_VERSION:
        obj.update(current_period_start=start, current_period_end=end, plan={"id": price, "interval": interval})
    else:
        item.update(current_period_start=start, current_period_end=end)
    return obj


def subscription_event(
    kind: str, *, created: int, event_id: str | None = None, api_version: str = API_VERSION, **fields: Any
) -> dict:
    """``customer.subscription.<kind>`` (``created``, ``updated``, ``deleted``) about the subscription
    that ``fields`` describe (see :func:`subscription_object`)."""
    obj = subscription_object(api_version=api_version, **fields)
    return event(f"customer.subscription.{kind}", obj, created=created, event_id=event_id, api_version=api_version)


def invoice_event(
    kind: str, *, created: int, subscription: str, customer: str, user_id: int | str = "",
    billing_reason: str = "subscription_cycle", event_id: str | None = None, api_version: str = API_VERSION,
) -> dict:  # fmt: skip
    """``invoice.<kind>`` (``paid``, ``payment_failed``) of ``subscription``."""
    paid = kind == "paid"
    metadata = {"user_id": str(user_id)} if user_id else {}
    obj = {
        "id": _token("in"), "object": "invoice", "customer": customer, "billing_reason": billing_reason,
        "status": "paid" if paid else "open", "paid": paid, "amount_due": 900, "amount_paid": 900 if paid else 0,
        "amount_remaining": 0 if paid else 900, "attempt_count": 1, "currency": "usd", "created": created,
        "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1/test", "livemode": False,
        "period_start": created - 86400 * 31, "period_end": created,
    }  # fmt: skip
    if api_version == OLD_API_VERSION:
        obj.update(subscription=subscription, subscription_details={"metadata": metadata})
    else:
        obj["parent"] = {
            "type": "subscription_details", "quote_details": None,
            "subscription_details": {"metadata": metadata, "subscription": subscription},
        }  # fmt: skip
    return event(f"invoice.{kind}", obj, created=created, event_id=event_id, api_version=api_version)
