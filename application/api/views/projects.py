"""Projects: upload (which queues the separation), list, detail, delete."""

from __future__ import annotations

from functools import cache

from django.http import HttpRequest
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from application.api.pagination import BoundedLimitOffsetPagination
from application.api.serializers import ProjectListOutputSerializer, ProjectOutputSerializer
from application.api.uploads import UploadRateThrottle, declared_size_check, upload_handlers_install, upload_user
from business.selectors import plan_limits_for_user
from domain.selectors import project_get_for_user, project_list_for_user
from model.services import project_remove, project_upload


class ProjectsApi(APIView):
    """``GET`` lists the user's projects; ``POST`` uploads a song and queues its separation."""

    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [UploadRateThrottle]
    pagination_class = BoundedLimitOffsetPagination  # what `get` pages with, and the schema says

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(allow_empty_file=True)
        name = serializers.CharField(max_length=200, required=False, allow_blank=True)
        # An engine of GET /api/v1/engines/ (empty: the default); two stems: vocals + instrumental.
        engine = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
        two_stems = serializers.BooleanField(required=False, default=False)

        class Meta:
            ref_name = "ProjectCreateInput"

    @extend_schema(responses=ProjectListOutputSerializer(many=True), operation_id="projects_list")
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(project_list_for_user(user=request.user), request, view=self)
        return paginator.get_paginated_response(ProjectListOutputSerializer(page, many=True).data)

    error_responses = {
        "POST": {
            "402": "A limit of the plan is reached (`quota_exceeded`: `extra` says which, and when it resets), "
            "or the engine is not in the plan (`plan_required`)."
        }
    }

    def initialize_request(self, request: HttpRequest, *args, **kwargs) -> Request:
        # Before authentication: the session's CSRF check would otherwise read the whole body.
        # So the cap is the plan of the user the request names (session or token), looked up
        # here; project_upload checks the authenticated user's plan again.
        # Looked up once, when the body is first read or its declared size checked.
        request._upload_max_bytes = cache(lambda: plan_limits_for_user(user=upload_user(request)).max_upload_bytes)
        upload_handlers_install(request, max_bytes=request._upload_max_bytes)
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request: Request, *args, **kwargs) -> None:
        if request.method == "POST":
            declared_size_check(request._request, max_bytes=request._request._upload_max_bytes())
        super().initial(request, *args, **kwargs)

    @extend_schema(request=InputSerializer, responses={202: ProjectOutputSerializer}, operation_id="projects_create")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options = data.validated_data
        project = project_upload(
            owner=request.user,
            upload=options["file"],
            name=options.get("name", ""),
            engine=options["engine"],
            two_stems=options["two_stems"],
        )
        project = project_get_for_user(user=request.user, project_id=project.id)
        return Response(ProjectOutputSerializer(project).data, status=status.HTTP_202_ACCEPTED)


class ProjectDetailApi(APIView):
    @extend_schema(responses=ProjectOutputSerializer, operation_id="projects_retrieve")
    def get(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        return Response(ProjectOutputSerializer(project).data)

    @extend_schema(responses={204: None}, operation_id="projects_destroy")
    def delete(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        project_remove(project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)
