"""``POST /api/v1/auth/token/``: DRF's token endpoint, authenticating through the login guard."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser

from application.api.parsers import StrictJSONParser
from application.login_guard import login_authenticate


class AuthTokenCreateApi(ObtainAuthToken):
    """Username and password → ``{"token"}``; 429 ``too_many_attempts`` during a lock-out."""

    class InputSerializer(AuthTokenSerializer):
        class Meta:
            ref_name = "AuthToken"

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            user = login_authenticate(
                request=self.context["request"], username=attrs["username"], password=attrs["password"]
            )
            if user is None:
                raise serializers.ValidationError(
                    _("Unable to log in with provided credentials."), code="authorization"
                )
            return {**attrs, "user": user}

    serializer_class = InputSerializer
    # ObtainAuthToken names DRF's plain JSONParser; ours refuses absurd JSON with a 400.
    parser_classes = [FormParser, MultiPartParser, StrictJSONParser]
