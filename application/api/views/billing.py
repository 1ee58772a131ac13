"""Billing: a Checkout Session to subscribe, a Billing Portal session to manage (placeholder)."""

from __future__ import annotations

from rest_framework.views import APIView


class CheckoutCreateApi(APIView):
    pass


class PortalCreateApi(APIView):
    pass
