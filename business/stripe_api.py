"""The one module that talks to Stripe: every call of the ``stripe`` SDK goes through here.

Calls go through one ``stripe.StripeClient`` made from the settings: ``STRIPE_SECRET_KEY``, and
``ISOMIX_STRIPE_API_BASE`` where set (the tests point it at a local stand-in of the Stripe API, so
the SDK's own request code runs with no network). A call waits at most :data:`TIMEOUT_S` and is
retried :data:`NETWORK_RETRIES` times where the SDK judges a retry safe (connection errors, 409,
5xx; POSTs carry the SDK's idempotency keys, so a retry never creates twice).

Every SDK error becomes :class:`~business.exceptions.BillingError` with a plain, translated
message. The SDK's own text is neither shown nor logged (it may quote a key, even masked, or a
request's parameters): the log has the error's class, HTTP status, Stripe code and request id,
which is what an operator looks up in the Stripe dashboard.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from business.exceptions import BillingError
from domain.exceptions import ErrorCode, IsoMixError

logger = logging.getLogger(__name__)

#: Seconds one call to Stripe may take (a web request is waiting on it).
TIMEOUT_S = 20
#: Retries of a call that failed in a way a retry may fix (as the SDK decides).
NETWORK_RETRIES = 2
#: How old a webhook's signature may be, in seconds (Stripe's default): an older one is a replay.
WEBHOOK_TOLERANCE_S = 300


@functools.lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str) -> stripe.StripeClient:
    # One client (and its HTTP connection pool, one per thread) per key and address.
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_S),
        max_network_retries=NETWORK_RETRIES,
    )


def _client() -> stripe.StripeClient:
    return _client_for(settings.STRIPE_SECRET_KEY, settings.ISOMIX_STRIPE_API_BASE)


def _failed(what: str, exc: stripe.StripeError) -> BillingError:
    logger.warning(
        "Stripe %s failed: %s (HTTP %s, code %s, request %s)",
        what, type(exc).__name__, exc.http_status, exc.code, exc.request_id,
    )  # fmt: skip
    if isinstance(exc, stripe.APIConnectionError):
        return BillingError(_("Stripe could not be reached. Nothing was changed; please try again in a moment."))
    return BillingError(_("Stripe refused the request. Nothing was changed; please try again later."))


def customer_create(*, email: str, user_id: int | str, idempotency_key: str) -> str:
    """A Stripe customer for the user (``metadata.user_id``); returns its id.

    ``idempotency_key`` makes two requests that race to create one get the same customer.
    """
    params: dict[str, Any] = {"metadata": {"user_id": str(user_id)}}
    if email:
        params["email"] = email
    try:
        customer = _client().v1.customers.create(params=params, options={"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise _failed("customer create", exc) from exc
    return customer.id


def checkout_session_create(*, customer: str, price: str, user_id: int | str, success_url: str, cancel_url: str) -> str:
    """A Checkout Session that subscribes ``customer`` to ``price``; returns its URL.

    The user's id rides along as ``client_reference_id`` (on the session) and as
    ``metadata.user_id`` (on the session and on the subscription it creates), so that every event
    about it names the user without a call back to Stripe.
    """
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer,
        "client_reference_id": str(user_id),
        "line_items": [{"price": price, "quantity": 1}],
        "metadata": {"user_id": str(user_id)},
        "subscription_data": {"metadata": {"user_id": str(user_id)}},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": "auto",
    }
    try:
        session = _client().v1.checkout.sessions.create(params=params)
    except stripe.StripeError as exc:
        raise _failed("checkout session create", exc) from exc
    return session.url


def portal_session_create(*, customer: str, return_url: str) -> str:
    """A Billing Portal session (cancel, change card, invoices) for ``customer``; returns its URL."""
    try:
        session = _client().v1.billing_portal.sessions.create(params={"customer": customer, "return_url": return_url})
    except stripe.StripeError as exc:
        raise _failed("portal session create", exc) from exc
    return session.url


def subscription_cancel(*, subscription_id: str) -> None:
    """Cancel the subscription at once (no further charge). One Stripe no longer knows of is
    already gone, which is what was asked: not an error."""
    try:
        _client().v1.subscriptions.cancel(subscription_id)
    except stripe.InvalidRequestError as exc:
        if exc.code != "resource_missing":
            raise _failed("subscription cancel", exc) from exc
        logger.info("Stripe subscription %s to cancel was already gone (request %s)", subscription_id, exc.request_id)
    except stripe.StripeError as exc:
        raise _failed("subscription cancel", exc) from exc


def event_construct(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    """The webhook event in ``payload``, once its ``Stripe-Signature`` is verified with
    ``STRIPE_WEBHOOK_SECRET`` by the SDK (and is at most :data:`WEBHOOK_TOLERANCE_S` old).

    A missing, malformed, wrong or stale signature, or a body that is not a Stripe event, raises
    ``invalid_signature`` (HTTP 400).
    """
    try:
        event = _client().construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=WEBHOOK_TOLERANCE_S
        )
    except (stripe.SignatureVerificationError, ValueError) as exc:  # ValueError: not UTF-8, not JSON
        logger.warning("Stripe webhook refused: %s", type(exc).__name__)
        raise IsoMixError(
            _("The Stripe signature of this request is missing or not valid."), code=ErrorCode.INVALID_SIGNATURE
        ) from exc
    return event.to_dict(for_json=True)
