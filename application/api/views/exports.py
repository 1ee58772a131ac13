"""Exports: queue a render of the mix, follow it, download it under a name that says what it is."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from application.api.downloads import signed_download_redirect
from application.api.parsers import StrictJSONParser
from application.api.serializers import (
    ExportOutputSerializer,
    MixSettingsInputSerializer,
    StrictChoiceField,
    mix_settings_from,
)
from domain import mix
from domain.models import Export
from domain.selectors import export_get_for_user, project_get_for_user
from model.services import export_start


class ExportCreateApi(APIView):
    """The mixer settings at the top level of the body, with the format and what to render."""

    parser_classes = [StrictJSONParser]
    error_responses = {
        "POST": {
            "402": "The format or bit rate is not in the plan (`plan_required`), or the plan's jobs at once "
            "are running (`quota_exceeded`).",
            "409": "A karaoke export before the song has lyrics (`not_ready`).",
        }
    }

    class InputSerializer(MixSettingsInputSerializer):
        format = serializers.ChoiceField(choices=Export.Format.choices)
        # MP3 only (default 192); a lossless export takes none and ignores it.
        bitrate_kbps = StrictChoiceField(choices=mix.EXPORT_MP3_BITRATES, required=False, allow_null=True)
        region = serializers.ChoiceField(choices=Export.Region.choices, default=Export.Region.ALL)

        class Meta:
            ref_name = "ExportCreateInput"

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:  # type: ignore[override]
            options = {name: attrs.pop(name, None) for name in ("format", "bitrate_kbps", "region")}
            return {**options, "mix": mix_settings_from(attrs)}

    @extend_schema(request=InputSerializer, responses={202: ExportOutputSerializer}, operation_id="exports_create")
    def post(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options = data.validated_data
        export = export_start(
            project=project,
            fmt=options["format"],
            mix=options["mix"],
            bitrate_kbps=options["bitrate_kbps"],
            region=options["region"],
        )
        return Response(ExportOutputSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(APIView):
    @extend_schema(responses=ExportOutputSerializer, operation_id="exports_retrieve")
    def get(self, request: Request, export_id: str) -> Response:
        export = export_get_for_user(user=request.user, export_id=export_id)
        return Response(ExportOutputSerializer(export).data)


class ExportDownloadApi(APIView):
    @extend_schema(responses={302: None}, operation_id="exports_download")
    def get(self, request: Request, export_id: str):
        export = export_get_for_user(user=request.user, export_id=export_id)
        return signed_download_redirect(key=export.file_key, filename=export.filename, as_attachment=True)
