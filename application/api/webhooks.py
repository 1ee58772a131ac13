"""Stripe's webhook endpoint: ``POST /billing/stripe/webhook/`` (business.billing does the work).

Not a DRF view: Stripe signs the raw body, which must reach the SDK byte for byte, and it neither
has a session (no CSRF token) nor reads anything but the status. The body is capped before it is
read (the ASGI body limit, 2.5 MB). Answers: 200 ``{"result"}`` for an event handled (also a
duplicate or one the studio ignores: Stripe stops retrying it), 400 ``invalid_signature``, 503
``billing_disabled`` without ``STRIPE_WEBHOOK_SECRET``; any other failure is a 500, which Stripe
retries.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from application.api.errors import error_body
from business.billing import webhook_handle
from domain.exceptions import IsoMixError


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    try:
        result = webhook_handle(payload=request.body, signature=request.headers.get("Stripe-Signature"))
    except IsoMixError as exc:  # no DRF handler here: the house shape, written out
        return JsonResponse(error_body(exc), status=exc.status_code)
    return JsonResponse({"result": result})
