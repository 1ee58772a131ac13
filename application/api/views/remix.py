"""The granular remix: the user's style sounds (upload, list, detail, delete, audio, one grain), and
a song's remixes (start, list, detail, the mix and each re-voiced stem)."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from application.api.downloads import signed_download_redirect
from application.api.pagination import BoundedLimitOffsetPagination
from application.api.serializers import shown_message
from application.api.uploads import UploadRateThrottle, style_upload_handlers_install
from domain.mix import filename_slug
from domain.models import Job, Remix, RemixStem, StyleSound
from domain.remix import REVOICED_KINDS, STYLE_FILES_MAX
from domain.selectors import (
    project_get_for_user,
    remix_get_for_user,
    remix_stem_get_for_user,
    remixes_for_project,
    style_get_for_user,
    style_job,
    styles_for_user,
)
from domain.services import style_delete
from model.services.remix import remix_start, styles_upload

# ---------------------------------------------------------------- output


class StyleJobOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = ["id", "state", "progress", "stage"]
        ref_name = "StyleJob"


class StyleOutputSerializer(serializers.ModelSerializer):
    user_error = serializers.SerializerMethodField()
    audio_url = serializers.SerializerMethodField()
    job = serializers.SerializerMethodField()
    scatter = serializers.SerializerMethodField()

    class Meta:
        model = StyleSound
        fields = [
            "id", "name", "original_filename", "duration_s", "status", "grain_count", "grains_duration_s",
            "user_error", "created_at", "audio_url", "job", "scatter",
        ]  # fmt: skip

    def get_user_error(self, style: StyleSound) -> str:
        return shown_message(style.user_error)

    def get_audio_url(self, style: StyleSound) -> str:
        return reverse("api:style-audio", kwargs={"style_id": style.id})

    @extend_schema_field(StyleJobOutputSerializer(allow_null=True))
    def get_job(self, style: StyleSound) -> dict | None:
        job = style_job(style)
        return StyleJobOutputSerializer(job).data if job is not None else None

    def get_scatter(self, style: StyleSound) -> list[dict]:
        # The plot's points only where one sound is shown (a list defers them).
        return style.scatter if self.context.get("detail") else []


class RemixTrackOutputSerializer(serializers.ModelSerializer):
    track = serializers.CharField(read_only=True)
    label = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()
    peaks_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = RemixStem
        fields = ["kind", "track", "label", "duration_s", "preview_url", "peaks_url", "download_url"]
        ref_name = "RemixTrack"

    def get_label(self, stem: RemixStem) -> str:
        return stem.label

    def _url(self, name: str, stem: RemixStem) -> str:
        return reverse(name, kwargs={"remix_id": stem.remix_id, "kind": stem.kind})

    def get_preview_url(self, stem: RemixStem) -> str:
        return self._url("api:remix-stem-preview", stem)

    def get_peaks_url(self, stem: RemixStem) -> str:
        return self._url("api:remix-stem-peaks", stem)

    def get_download_url(self, stem: RemixStem) -> str:
        return self._url("api:remix-stem-download", stem)


class RemixOutputSerializer(serializers.ModelSerializer):
    # The job whose ``job.progress`` events (WebSocket) the page follows for this remix.
    job = serializers.UUIDField(source="job_id", read_only=True)
    state = serializers.ChoiceField(choices=Job.State.choices, source="job.state")
    progress = serializers.IntegerField(source="job.progress", min_value=0, max_value=100)
    stage = serializers.CharField(source="job.stage")
    user_error = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    tracks = RemixTrackOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Remix
        fields = [
            "id", "project", "job", "state", "progress", "stage", "user_error", "stems", "settings", "created_at",
            "download_url", "tracks",
        ]  # fmt: skip

    def get_user_error(self, remix: Remix) -> str:
        return shown_message(remix.job.user_error)

    def get_download_url(self, remix: Remix) -> str | None:
        if remix.job.state != Job.State.DONE or not remix.file_key:
            return None
        return reverse("api:remix-download", kwargs={"remix_id": remix.id})


# ---------------------------------------------------------------- style sounds


class StylesApi(APIView):
    """``GET`` lists the user's style sounds; ``POST`` uploads one or many (multipart ``files``)."""

    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [UploadRateThrottle]
    pagination_class = BoundedLimitOffsetPagination

    class InputSerializer(serializers.Serializer):
        files = serializers.ListField(
            child=serializers.FileField(allow_empty_file=True), min_length=1, max_length=STYLE_FILES_MAX
        )

        class Meta:
            ref_name = "StylesCreateInput"

    class CreatedOutputSerializer(serializers.Serializer):
        results = StyleOutputSerializer(many=True)

        class Meta:
            ref_name = "StylesCreated"

    error_responses = {"POST": {"413": "A file, or the request, is larger than allowed (`file_too_large`)."}}

    def initialize_request(self, request: HttpRequest, *args, **kwargs) -> Request:
        # Before authentication, as for a song's upload (the CSRF check would read the whole body).
        style_upload_handlers_install(request)
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(responses=StyleOutputSerializer(many=True), operation_id="styles_list")
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(styles_for_user(user=request.user), request, view=self)
        return paginator.get_paginated_response(StyleOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={202: CreatedOutputSerializer}, operation_id="styles_create")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)  # a multipart body's repeated `files`, or nothing
        data.is_valid(raise_exception=True)
        styles = styles_upload(owner=request.user, uploads=data.validated_data["files"])
        order = {s.id: i for i, s in enumerate(styles)}  # as uploaded
        styles = sorted(styles_for_user(user=request.user).filter(id__in=order), key=lambda s: order[s.id])
        return Response({"results": StyleOutputSerializer(styles, many=True).data}, status=status.HTTP_202_ACCEPTED)


class StyleDetailApi(APIView):
    @extend_schema(responses=StyleOutputSerializer, operation_id="styles_retrieve")
    def get(self, request: Request, style_id: str) -> Response:
        style = style_get_for_user(user=request.user, style_id=style_id)
        return Response(StyleOutputSerializer(style, context={"detail": True}).data)

    @extend_schema(responses={204: None}, operation_id="styles_destroy")
    def delete(self, request: Request, style_id: str) -> Response:
        style = style_get_for_user(user=request.user, style_id=style_id)
        style_delete(style=style)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StyleAudioApi(APIView):
    @extend_schema(responses={302: None}, operation_id="styles_audio")
    def get(self, request: Request, style_id: str):
        style = style_get_for_user(user=request.user, style_id=style_id)
        ext = style.file_key.rsplit(".", 1)[-1]
        filename = f"{filename_slug(style.name)}.{ext}"
        return signed_download_redirect(key=style.file_key, filename=filename, as_attachment=False)


class StyleGrainAudioApi(APIView):
    """One grain of a ready sound as a short WAV, to audition it (the plot's points play these)."""

    @extend_schema(
        responses={(200, "audio/wav"): OpenApiResponse(OpenApiTypes.BINARY)}, operation_id="styles_grain_audio"
    )
    def get(self, request: Request, style_id: str, index: int) -> HttpResponse:
        from model.grain_cache import grain_library_load

        style = style_get_for_user(user=request.user, style_id=style_id)
        if style.status != StyleSound.Status.READY or not 0 <= index < style.grain_count:
            raise Http404("No such grain.")
        library = grain_library_load(style)
        if index >= library.n_grains:
            raise Http404("No such grain.")
        buffer = io.BytesIO()
        grain = np.clip(library.grain(index), -1.0, 1.0)
        sf.write(buffer, grain, library.sr, format="WAV", subtype="PCM_16")
        response = HttpResponse(buffer.getvalue(), content_type="audio/wav")
        response["Cache-Control"] = "private, max-age=3600"
        return response


# ---------------------------------------------------------------- remixes


class RemixesApi(APIView):
    """``GET`` lists the song's remixes; ``POST`` starts one."""

    parser_classes = [JSONParser]
    pagination_class = BoundedLimitOffsetPagination

    class InputSerializer(serializers.Serializer):
        # Per stem: drums, bass, other take ``style`` (a ready style sound's id), ``gain_db``,
        # ``enabled`` and ``wet`` (0..1); the others ``gain_db`` and ``enabled``. The settings:
        # ``grain_ms``, ``pitch_mapping``, ``envelope``, ``snap_to_beats``, ``onset_delta``, ``seed``.
        # Both are checked, field by field, by the service (domain.remix, RemixSettings).
        stems = serializers.DictField(child=serializers.DictField())
        settings = serializers.DictField(required=False)

        class Meta:
            ref_name = "RemixCreateInput"

    error_responses = {
        "POST": {"402": "The plan's remixes of the month, or its jobs at once, are used (`quota_exceeded`)."}
    }

    @extend_schema(responses=RemixOutputSerializer(many=True), operation_id="remixes_list")
    def get(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(remixes_for_project(project=project), request, view=self)
        return paginator.get_paginated_response(RemixOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={202: RemixOutputSerializer}, operation_id="remixes_create")
    def post(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        remix = remix_start(
            project=project, user=request.user, stems=data.validated_data["stems"],
            settings=data.validated_data.get("settings"),
        )  # fmt: skip
        remix = remix_get_for_user(user=request.user, remix_id=remix.id)
        return Response(RemixOutputSerializer(remix).data, status=status.HTTP_202_ACCEPTED)


class RemixDetailApi(APIView):
    @extend_schema(responses=RemixOutputSerializer, operation_id="remixes_retrieve")
    def get(self, request: Request, remix_id: str) -> Response:
        remix = remix_get_for_user(user=request.user, remix_id=remix_id)
        return Response(RemixOutputSerializer(remix).data)


class RemixDownloadApi(APIView):
    @extend_schema(responses={302: None}, operation_id="remixes_download")
    def get(self, request: Request, remix_id: str):
        remix = remix_get_for_user(user=request.user, remix_id=remix_id)
        if remix.job.state != Job.State.DONE:
            raise Http404("The remix is not ready.")
        filename = f"{filename_slug(remix.project.name)}-remix.flac"
        return signed_download_redirect(key=remix.file_key, filename=filename, as_attachment=True)


#: The re-voiced stem named in the path.
KIND = OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(REVOICED_KINDS))


def _remix_stem_filename(stem: RemixStem, ext: str) -> str:
    return f"{filename_slug(stem.remix.project.name)}-{stem.kind}-remix.{ext}"


class RemixStemDownloadApi(APIView):
    @extend_schema(responses={302: None}, operation_id="remixes_stem_download", parameters=[KIND])
    def get(self, request: Request, remix_id: str, kind: str):
        stem = remix_stem_get_for_user(user=request.user, remix_id=remix_id, kind=kind)
        return signed_download_redirect(
            key=stem.file_key, filename=_remix_stem_filename(stem, "flac"), as_attachment=True
        )


class RemixStemPreviewApi(APIView):
    @extend_schema(responses={302: None}, operation_id="remixes_stem_preview", parameters=[KIND])
    def get(self, request: Request, remix_id: str, kind: str):
        stem = remix_stem_get_for_user(user=request.user, remix_id=remix_id, kind=kind)
        ext = stem.preview_key.rsplit(".", 1)[-1]
        return signed_download_redirect(
            key=stem.preview_key, filename=_remix_stem_filename(stem, ext), as_attachment=False
        )


class RemixStemPeaksApi(APIView):
    class OutputSerializer(serializers.Serializer):
        kind = serializers.CharField()
        peaks_per_second = serializers.IntegerField()
        duration_s = serializers.FloatField()
        peaks = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))

        class Meta:
            ref_name = "RemixStemPeaks"

    @extend_schema(responses=OutputSerializer, operation_id="remixes_stem_peaks", parameters=[KIND])
    def get(self, request: Request, remix_id: str, kind: str) -> Response:
        stem = remix_stem_get_for_user(user=request.user, remix_id=remix_id, kind=kind)
        return Response(self.OutputSerializer(stem).data)
