"""Billing: a Stripe Checkout page to subscribe to Pro, and the Billing Portal to manage it."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from application.api.parsers import StrictJSONParser
from application.api.serializers import StrictChoiceField
from business.billing import checkout_session_create, portal_session_create

_BILLING_ERRORS = {
    "502": "Stripe refused or could not be reached; nothing was changed.",
    "503": "Billing is off on this server (no Stripe keys): operators assign the plans.",
}


class BillingUrlOutputSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="The Stripe page to send the user to.")

    class Meta:
        ref_name = "BillingUrl"


class CheckoutCreateApi(APIView):
    """A Stripe Checkout page that subscribes the signed-in user to Pro, monthly or yearly; the
    user comes back to their account page (``?checkout=done``), or to the pricing page if they
    leave it."""

    parser_classes = [StrictJSONParser]
    error_responses = {"POST": {**_BILLING_ERRORS, "400": "Not a known interval, or the user already has Pro."}}

    class InputSerializer(serializers.Serializer):
        interval = StrictChoiceField(choices=["month", "year"])

        class Meta:
            ref_name = "CheckoutInput"

    @extend_schema(request=InputSerializer, responses=BillingUrlOutputSerializer, operation_id="billing_checkout")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        url = checkout_session_create(
            user=request.user,
            interval=data.validated_data["interval"],
            success_url=request.build_absolute_uri(reverse("account")) + "?checkout=done",
            cancel_url=request.build_absolute_uri(reverse("pricing")),
        )
        return Response(BillingUrlOutputSerializer({"url": url}).data)


class PortalCreateApi(APIView):
    """The signed-in user's Stripe Billing Portal (cancel, payment method, invoices); it returns
    to the account page."""

    parser_classes = [StrictJSONParser]
    error_responses = {"POST": {**_BILLING_ERRORS, "409": "The user has no Stripe customer yet (never subscribed)."}}

    @extend_schema(request=None, responses=BillingUrlOutputSerializer, operation_id="billing_portal")
    def post(self, request: Request) -> Response:
        url = portal_session_create(user=request.user, return_url=request.build_absolute_uri(reverse("account")))
        return Response(BillingUrlOutputSerializer({"url": url}).data)
