"""Separation choices: the engines this user may pick, and separating a song again."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from application.api.parsers import StrictJSONParser
from application.api.serializers import ProjectOutputSerializer, SeparationChoiceSerializer
from business.selectors import plan_limits_for_user
from domain.selectors import project_get_for_user
from model.services import separation_again, separation_choices, separation_engine_for


class EnginesApi(APIView):
    """``GET``: every separation engine offered, whether this server has it and the plan includes it,
    and the one a song is separated with when none is chosen."""

    class OutputSerializer(serializers.Serializer):
        default = serializers.CharField()
        engines = SeparationChoiceSerializer(many=True)

        class Meta:
            ref_name = "EnginesOutput"

    @extend_schema(responses=OutputSerializer, operation_id="engines_list")
    def get(self, request: Request) -> Response:
        limits = plan_limits_for_user(user=request.user)
        body = {"default": separation_engine_for(limits=limits), "engines": separation_choices(limits=limits)}
        return Response(self.OutputSerializer(body).data)


class ProjectSeparateApi(APIView):
    """``POST``: separate the song again (another engine, or two stems). It keeps its stems until the
    new ones are ready, and keeps them if the new separation fails."""

    parser_classes = [StrictJSONParser]
    error_responses = {
        "POST": {
            "402": "The engine is not in the plan (`plan_required`), or a limit of the plan is reached "
            "(`quota_exceeded`).",
            "409": "The song is being separated now (`job_conflict`).",
        }
    }

    class InputSerializer(serializers.Serializer):
        engine = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
        two_stems = serializers.BooleanField(required=False, default=False)

        class Meta:
            ref_name = "ProjectSeparateInput"

    @extend_schema(request=InputSerializer, responses={202: ProjectOutputSerializer}, operation_id="projects_separate")
    def post(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        separation_again(user=request.user, project=project, **data.validated_data)
        project = project_get_for_user(user=request.user, project_id=project.id)
        return Response(ProjectOutputSerializer(project).data, status=status.HTTP_202_ACCEPTED)
