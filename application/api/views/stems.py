"""A project's stems: each lossless file, its browser preview and peaks, and all of them as a zip."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from application.api.archive import stem_archive_entries, zip_stream
from application.api.downloads import StreamingResponse, signed_download_redirect
from domain.mix import filename_slug, stem_filename
from domain.models import Stem, StemKind
from domain.selectors import project_get_for_user, stem_get_for_user
from model.services import stems_archive_allowed_check


def _stem_filename(stem: Stem, ext: str) -> str:
    return stem_filename(project_name=stem.project.name, kind=stem.kind, ext=ext)


#: The stem named in the path: one of the kinds a separation makes (a kind the project lacks is a 404).
KIND = OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=StemKind.values)


class StemDownloadApi(APIView):
    @extend_schema(responses={302: None}, operation_id="stems_download", parameters=[KIND])
    def get(self, request: Request, project_id: str, kind: str):
        stem = stem_get_for_user(user=request.user, project_id=project_id, kind=kind)
        return signed_download_redirect(key=stem.file_key, filename=_stem_filename(stem, "flac"), as_attachment=True)


class StemPreviewApi(APIView):
    @extend_schema(responses={302: None}, operation_id="stems_preview", parameters=[KIND])
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

    @extend_schema(responses=OutputSerializer, operation_id="stems_peaks", parameters=[KIND])
    def get(self, request: Request, project_id: str, kind: str) -> Response:
        stem = stem_get_for_user(user=request.user, project_id=project_id, kind=kind)
        return Response(self.OutputSerializer(stem).data)


class StemsArchiveApi(APIView):
    """All the lossless stems in one zip (``<song>-stems.zip``), streamed as it is written (Pro)."""

    error_responses = {"GET": {"402": "The plan has no zip of the stems (`plan_required`)."}}

    @extend_schema(
        responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY)}, operation_id="stems_archive"
    )
    def get(self, request: Request, project_id: str) -> StreamingResponse:
        project = project_get_for_user(user=request.user, project_id=project_id)
        stems_archive_allowed_check(user=request.user)
        entries = stem_archive_entries(project=project)
        response = StreamingResponse(zip_stream(entries), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{filename_slug(project.name)}-stems.zip"'
        response["Cache-Control"] = "private, no-store"
        return response
