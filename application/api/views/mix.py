"""The mixer as saved for a project (restored on reload, reset to defaults) and its named presets."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from application.api.parsers import StrictJSONParser
from application.api.serializers import (
    MixPresetOutputSerializer,
    MixSettingsInputSerializer,
    MixSettingsOutputSerializer,
    StrictCharField,
)
from domain.mix import MIX_PRESET_NAME_MAX
from domain.selectors import mix_preset_get_for_user, mix_presets_for_project, mix_state_get, project_get_for_user
from domain.services import mix_preset_delete, mix_preset_save, mix_state_reset, mix_state_save


class MixStateOutputSerializer(serializers.Serializer):
    settings = MixSettingsOutputSerializer()
    updated_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "MixState"


class MixStateApi(APIView):
    """``GET`` the saved mixer (or every fader at rest, ``updated_at`` null); ``PUT`` saves it;
    ``DELETE`` forgets it (the reset button)."""

    parser_classes = [StrictJSONParser]

    class InputSerializer(serializers.Serializer):
        settings = MixSettingsInputSerializer()

        class Meta:
            ref_name = "MixStateInput"

    @extend_schema(responses=MixStateOutputSerializer, operation_id="mix_retrieve")
    def get(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        saved = mix_state_get(project=project)
        body = {"settings": saved.settings.to_json(), "updated_at": saved.updated_at}
        return Response(MixStateOutputSerializer(body).data)

    @extend_schema(request=InputSerializer, responses=MixStateOutputSerializer, operation_id="mix_update")
    def put(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        state = mix_state_save(project=project, mix=data.validated_data["settings"])
        return Response(MixStateOutputSerializer(state).data)

    @extend_schema(responses={204: None}, operation_id="mix_destroy")
    def delete(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        mix_state_reset(project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MixPresetListOutputSerializer(serializers.Serializer):
    results = MixPresetOutputSerializer(many=True)

    class Meta:
        ref_name = "MixPresetList"


class MixPresetsApi(APIView):
    """``GET`` the project's presets, newest first; ``POST`` saves one (201, or 200 over one of that name)."""

    parser_classes = [StrictJSONParser]

    class InputSerializer(serializers.Serializer):
        name = StrictCharField(max_length=MIX_PRESET_NAME_MAX)
        settings = MixSettingsInputSerializer()

        class Meta:
            ref_name = "MixPresetInput"

    @extend_schema(responses=MixPresetListOutputSerializer, operation_id="presets_list")
    def get(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        return Response(MixPresetListOutputSerializer({"results": mix_presets_for_project(project=project)}).data)

    @extend_schema(
        request=InputSerializer, responses={201: MixPresetOutputSerializer, 200: MixPresetOutputSerializer},
        operation_id="presets_create",
    )  # fmt: skip
    def post(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preset, created = mix_preset_save(
            project=project, name=data.validated_data["name"], mix=data.validated_data["settings"]
        )
        return Response(
            MixPresetOutputSerializer(preset).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class MixPresetDetailApi(APIView):
    @extend_schema(responses={204: None}, operation_id="presets_destroy")
    def delete(self, request: Request, preset_id: str) -> Response:
        preset = mix_preset_get_for_user(user=request.user, preset_id=preset_id)
        mix_preset_delete(preset=preset)
        return Response(status=status.HTTP_204_NO_CONTENT)
