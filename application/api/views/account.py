"""The account (who the user is, their plan, usage and subscription; deleting it) and the plans."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from application.api.parsers import StrictJSONParser
from application.login_guard import password_confirm
from business.selectors import plan_and_usage_for_user, plan_list, subscription_for_user
from business.services import account_delete
from domain.exceptions import ErrorCode, IsoMixError


class PlanOutputSerializer(serializers.Serializer):
    """A plan's limits, as the pricing page and the upload box show them."""

    code = serializers.CharField(source="slug")
    name = serializers.CharField(source="display_name")
    monthly_price_cents = serializers.IntegerField()
    yearly_price_cents = serializers.IntegerField()
    currency = serializers.CharField()
    max_upload_mb = serializers.IntegerField()
    max_duration_min = serializers.IntegerField()
    uploads_per_day = serializers.IntegerField()
    separation_minutes_per_month = serializers.IntegerField(help_text="Song minutes × stems.")
    concurrent_jobs = serializers.IntegerField()
    engines = serializers.ListField(child=serializers.CharField())
    export_formats = serializers.ListField(child=serializers.CharField(), help_text='"zip": the stems as one archive.')
    mp3_max_kbps = serializers.IntegerField()
    retention_days = serializers.IntegerField(help_text="0: songs are kept until deleted.")
    lyrics_per_month = serializers.IntegerField()
    remixes_per_month = serializers.IntegerField()
    priority = serializers.BooleanField()

    class Meta:
        ref_name = "Plan"


class MeterOutputSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    limit = serializers.IntegerField()
    resets_at = serializers.DateTimeField()

    class Meta:
        ref_name = "UsageMeter"


class UsageOutputSerializer(serializers.Serializer):
    uploads_today = MeterOutputSerializer(source="uploads")
    separation_minutes = MeterOutputSerializer(help_text="Song minutes × stems this billing month.")
    lyrics = MeterOutputSerializer()
    remixes = MeterOutputSerializer()

    class Meta:
        ref_name = "Usage"


class SubscriptionOutputSerializer(serializers.Serializer):
    status = serializers.CharField()
    interval = serializers.CharField()
    current_period_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()
    grace_until = serializers.DateTimeField(allow_null=True, help_text="Pro stays until then after a failed payment.")

    class Meta:
        ref_name = "Subscription"


class PasswordIncorrect(IsoMixError):
    def __init__(self) -> None:
        message = _("That is not your password. Nothing was deleted.")
        super().__init__(message, code=ErrorCode.INVALID_INPUT, extra={"fields": {"password": [message]}})


def _usage(meters) -> dict:
    # People and programs count separation in minutes; the ledger keeps seconds.
    return {
        "uploads": meters["uploads"],
        "separation_minutes": meters["separation_s"].in_minutes(),
        "lyrics": meters["lyrics"],
        "remixes": meters["remixes"],
    }


class AccountApi(APIView):
    """``GET``: the signed-in user, their plan's limits, usage and subscription. ``DELETE``: the
    account with every song and file, the subscription cancelled."""

    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        email = serializers.EmailField(allow_blank=True)
        plan = PlanOutputSerializer()
        usage = UsageOutputSerializer()
        subscription = SubscriptionOutputSerializer(allow_null=True)

        class Meta:
            ref_name = "Account"

    parser_classes = [StrictJSONParser]
    error_responses = {
        "DELETE": {
            "400": "The password is missing or not the account's (`invalid_input`); nothing was deleted.",
            "413": "The request body is over its limit.",
            "415": "The body is not JSON.",
            "429": "Too many wrong passwords for this account or address (`too_many_attempts`, `Retry-After`).",
            "502": "Stripe could not cancel the subscription; nothing was deleted.",
        }
    }

    class DeleteInputSerializer(serializers.Serializer):
        password = serializers.CharField(max_length=128, trim_whitespace=False, help_text="The account's password.")

        class Meta:
            ref_name = "AccountDeleteInput"

    @extend_schema(responses=OutputSerializer, operation_id="account_retrieve")
    def get(self, request: Request) -> Response:
        user = request.user
        plan, meters = plan_and_usage_for_user(user=user)
        account = {
            "username": user.get_username(),
            "email": user.email,
            "plan": plan,
            "usage": _usage(meters),
            "subscription": subscription_for_user(user=user),
        }
        return Response(self.OutputSerializer(account).data)

    @extend_schema(request=DeleteInputSerializer, responses={204: None}, operation_id="account_destroy")
    def delete(self, request: Request) -> Response:
        data = self.DeleteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not password_confirm(request=request._request, user=request.user, password=data.validated_data["password"]):
            raise PasswordIncorrect()
        account_delete(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PlansApi(APIView):
    """The plans and their limits, for the pricing page (no sign-in needed)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses=PlanOutputSerializer(many=True), operation_id="plans_list", auth=[])
    def get(self, request: Request) -> Response:
        return Response(PlanOutputSerializer(plan_list(), many=True).data)
