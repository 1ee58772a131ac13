"""REST API v1: one APIView per operation; a view validates, authorises, calls one service."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.text import slugify
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from application.api.downloads import signed_download_redirect
from application.api.pagination import BoundedLimitOffsetPagination
from application.api.parsers import StrictJSONParser
from application.api.serializers import (
    ExportOutputSerializer,
    ProjectListOutputSerializer,
    ProjectOutputSerializer,
)
from application.api.uploads import UploadRateThrottle, declared_size_check, upload_handlers_install
from business.selectors import plan_limits_for_user
from domain import mix
from domain.models import Export, StemKind
from domain.selectors import export_get_for_user, project_get_for_user, project_list_for_user, stem_get_for_user
from domain.services import project_delete
from model.services import export_start, project_upload


class ProjectsApi(APIView):
    """``GET`` lists the user's projects; ``POST`` uploads a song and queues its separation."""

    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [UploadRateThrottle]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(allow_empty_file=True)
        name = serializers.CharField(max_length=200, required=False, allow_blank=True)

        class Meta:
            ref_name = "ProjectCreateInput"

    @extend_schema(responses=ProjectListOutputSerializer(many=True), operation_id="projects_list")
    def get(self, request: Request) -> Response:
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(project_list_for_user(user=request.user), request, view=self)
        return paginator.get_paginated_response(ProjectListOutputSerializer(page, many=True).data)

    def initialize_request(self, request: HttpRequest, *args, **kwargs) -> Request:
        # Before authentication: the session's CSRF check would otherwise read the whole body.
        # A token's user is not known yet, so this cap is the plan of the session user (or the
        # default plan); project_upload checks the final user's plan again.
        user = getattr(request, "user", None)
        limits = plan_limits_for_user(user=user if user is not None and user.is_authenticated else None)
        upload_handlers_install(request, max_bytes=limits.max_upload_bytes)
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request: Request, *args, **kwargs) -> None:
        if request.method == "POST":
            declared_size_check(request._request, max_bytes=plan_limits_for_user(user=None).max_upload_bytes)
        super().initial(request, *args, **kwargs)

    @extend_schema(request=InputSerializer, responses={202: ProjectOutputSerializer}, operation_id="projects_create")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_upload(
            owner=request.user, upload=data.validated_data["file"], name=data.validated_data.get("name", "")
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
        project_delete(project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _stem_filename(stem, ext: str) -> str:
    return f"{slugify(stem.project.name) or 'song'}-{stem.kind}.{ext}"


class StemDownloadApi(APIView):
    @extend_schema(responses={302: None}, operation_id="stems_download")
    def get(self, request: Request, project_id: str, kind: str):
        stem = stem_get_for_user(user=request.user, project_id=project_id, kind=kind)
        return signed_download_redirect(key=stem.file_key, filename=_stem_filename(stem, "flac"), as_attachment=True)


class StemPreviewApi(APIView):
    @extend_schema(responses={302: None}, operation_id="stems_preview")
    def get(self, request: Request, project_id: str, kind: str):
        stem = stem_get_for_user(user=request.user, project_id=project_id, kind=kind)
        ext = stem.preview_key.rsplit(".", 1)[-1]
        return signed_download_redirect(key=stem.preview_key, filename=_stem_filename(stem, ext), as_attachment=False)


class StemPeaksApi(APIView):
    class OutputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=StemKind.choices)
        peaks_per_second = serializers.IntegerField()
        duration_s = serializers.FloatField()
        peaks = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))

        class Meta:
            ref_name = "StemPeaks"

    @extend_schema(responses=OutputSerializer, operation_id="stems_peaks")
    def get(self, request: Request, project_id: str, kind: str) -> Response:
        stem = stem_get_for_user(user=request.user, project_id=project_id, kind=kind)
        return Response(self.OutputSerializer(stem).data)


class StemMixInputSerializer(serializers.Serializer):
    """One channel strip; the ranges are ``domain.mix``'s, the same the page's faders use."""

    gain_db = serializers.FloatField(min_value=mix.GAIN_DB_MIN, max_value=mix.GAIN_DB_MAX, default=0.0)
    mute = serializers.BooleanField(default=False)
    solo = serializers.BooleanField(default=False)
    pan = serializers.FloatField(min_value=mix.PAN_MIN, max_value=mix.PAN_MAX, default=0.0)

    class Meta:
        ref_name = "StemMix"


class ExportCreateApi(APIView):
    parser_classes = [StrictJSONParser]

    class InputSerializer(serializers.Serializer):
        format = serializers.ChoiceField(choices=Export.Format.choices)
        master_gain_db = serializers.FloatField(min_value=mix.GAIN_DB_MIN, max_value=mix.GAIN_DB_MAX, default=0.0)
        stems = serializers.DictField(child=StemMixInputSerializer(), required=False, default=dict)

        class Meta:
            ref_name = "ExportCreateInput"

    @extend_schema(request=InputSerializer, responses={202: ExportOutputSerializer}, operation_id="exports_create")
    def post(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        settings = mix.MixSettings(
            master_gain_db=data.validated_data["master_gain_db"],
            stems={kind: mix.StemMix(**strip) for kind, strip in data.validated_data["stems"].items()},
        )
        export = export_start(project=project, fmt=data.validated_data["format"], mix=settings)
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
        filename = f"{slugify(export.project.name) or 'song'}-mix.{export.format}"
        return signed_download_redirect(key=export.file_key, filename=filename, as_attachment=True)
