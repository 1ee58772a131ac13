"""A song's analysis (tempo, beats, meter, key, loudness) and its word-timed lyrics."""

from __future__ import annotations

import re

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from application.api.parsers import StrictJSONParser
from application.api.serializers import StrictCharField, StrictChoiceField, StrictIntegerField, shown_message
from domain.exceptions import ErrorCode, IsoMixError, NotReady
from domain.lyrics import (
    LYRICS_CONTENT_TYPES,
    LYRICS_EXTENSIONS,
    LYRICS_FORMATS,
    TEXT_CHARS_MAX,
    LyricsDoc,
    lyrics_render,
)
from domain.mix import filename_slug
from domain.models import Analysis, Job, Lyrics
from domain.selectors import (
    StepState,
    analysis_for_project,
    job_latest,
    lyrics_for_project,
    lyrics_version_get,
    project_get_for_user,
)
from domain.services import LYRICS_LANGUAGES
from model.services import lyrics_edit, lyrics_start

STEP_STATES = ["none", *Job.State.values]


class StepFieldsSerializer(serializers.Serializer):
    """Where the step stands: its newest job's state (``none`` before one ran), percent and reason."""

    status = serializers.ChoiceField(choices=STEP_STATES)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    stage = serializers.CharField()
    error = serializers.CharField(help_text="Why the step failed, in plain words; empty otherwise.")


class AnalysisOutputSerializer(StepFieldsSerializer):
    tempo_bpm = serializers.FloatField(allow_null=True)
    beats = serializers.ListField(child=serializers.FloatField())
    downbeats = serializers.ListField(child=serializers.FloatField())
    time_signature = serializers.CharField(allow_null=True)
    key = serializers.CharField(allow_null=True)
    key_confidence = serializers.FloatField(allow_null=True)
    loudness_lufs = serializers.FloatField(allow_null=True)
    peak_dbfs = serializers.FloatField(allow_null=True)

    class Meta:
        ref_name = "Analysis"


class LyricWordSerializer(serializers.Serializer):
    word = serializers.CharField()
    start = serializers.FloatField()
    end = serializers.FloatField()

    class Meta:
        ref_name = "LyricWord"


class LyricLineSerializer(serializers.Serializer):
    start = serializers.FloatField()
    end = serializers.FloatField()
    text = serializers.CharField()
    words = LyricWordSerializer(many=True)

    class Meta:
        ref_name = "LyricLine"


class LyricsVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    source = serializers.ChoiceField(choices=Lyrics.Source.choices)
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "LyricsVersion"


class LyricsOutputSerializer(StepFieldsSerializer):
    language = serializers.CharField()
    source = serializers.CharField(help_text="transcribed | aligned | edited; empty before the first lyrics.")
    model = serializers.CharField()
    version = serializers.IntegerField(help_text="The newest version (0 before the first lyrics).")
    versions = LyricsVersionSerializer(many=True)
    lines = LyricLineSerializer(many=True)

    class Meta:
        ref_name = "Lyrics"


@extend_schema_field(LyricLineSerializer(many=True))
class LinesField(serializers.JSONField):
    """The lines as decoded JSON: ``LyricsDoc.from_json`` checks them, naming each bad field's path."""


def _step(job: Job | None) -> dict:
    step = StepState.of(job)
    return {"status": step.status, "progress": step.progress, "stage": step.stage, "error": shown_message(step.error)}


def analysis_body(*, job: Job | None, analysis: Analysis | None) -> dict:
    fields = ["tempo_bpm", "time_signature", "key", "key_confidence", "loudness_lufs", "peak_dbfs"]
    body = {name: getattr(analysis, name) if analysis else None for name in fields}
    body["beats"] = analysis.beats if analysis else []
    body["downbeats"] = analysis.downbeats if analysis else []
    return {**_step(job), **body}


def lyrics_body(*, job: Job | None, lyrics: Lyrics | None, lines: list) -> dict:
    return {
        **_step(job),
        "language": lyrics.language if lyrics else "",
        "source": lyrics.source if lyrics else "",
        "model": lyrics.model_name if lyrics else "",
        "version": lyrics.version if lyrics else 0,
        "versions": list(lyrics.versions.all()) if lyrics else [],
        "lines": lines,
    }


class AnalysisApi(APIView):
    """``GET`` what the analysis found (the fields are null until its job is done)."""

    @extend_schema(responses=AnalysisOutputSerializer, operation_id="analysis_retrieve")
    def get(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        body = analysis_body(
            job=job_latest(project=project, kind=Job.Kind.ANALYSE), analysis=analysis_for_project(project=project)
        )
        return Response(AnalysisOutputSerializer(body).data)


_FORMAT_PARAMETER = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=list(LYRICS_FORMATS), description="Download the lyrics as this file."
)
_VERSION_PARAMETER = OpenApiParameter(
    "version",
    {"type": "integer", "minimum": 1, "maximum": 999_999_999},
    description="An earlier version's lines (its `number` in `versions`).",
)
#: The media types of the lyric files (``?format=``) besides JSON.
_DOWNLOAD_MEDIA_TYPES = sorted({t.split(";")[0] for t in LYRICS_CONTENT_TYPES.values()} - {"application/json"})
#: A song's language: one Whisper knows well, or empty to have it detected.
LANGUAGE_CHOICES = ["", *LYRICS_LANGUAGES]


class LyricsApi(APIView):
    """``GET`` the lyrics (``?format=`` downloads a file, ``?version=`` an earlier version); ``PUT``
    the user's text to align to the song (or none, to transcribe it again); ``PATCH`` an edit."""

    parser_classes = [StrictJSONParser]
    error_responses = {
        "GET": {"409": "A file (`?format=`) asked for before the song has lyrics (`not_ready`)."},
        "PUT": {
            "402": "The plan's karaoke allowance for the month is used up (`quota_exceeded`).",
            "409": "The stems are not ready yet (`not_ready`).",
        },
        "PATCH": {"409": "The edit was made from an older version than the newest (`lyrics_conflict`)."},
    }

    class AlignInputSerializer(serializers.Serializer):
        text = StrictCharField(max_length=TEXT_CHARS_MAX, allow_blank=True, trim_whitespace=False)
        language = StrictChoiceField(choices=LANGUAGE_CHOICES, required=False, default="")
        filename = StrictCharField(max_length=255, allow_blank=True, required=False, default="")

        class Meta:
            ref_name = "LyricsAlignInput"

    class EditInputSerializer(serializers.Serializer):
        lines = LinesField(help_text="Every line, as `GET` gives them; checked against the song's length.")
        version = StrictIntegerField(
            min_value=0,
            help_text="The version the edit was made from (0 when there were no lyrics yet); an edit from an "
            "older version than the newest is a 409, so that no one's edit is lost unseen.",
        )
        language = StrictChoiceField(choices=LANGUAGE_CHOICES, required=False)

        class Meta:
            ref_name = "LyricsEditInput"

    @extend_schema(
        parameters=[_FORMAT_PARAMETER, _VERSION_PARAMETER],
        responses={
            # The lyrics as JSON, or (``?format=json``) the JSON file: its language and lines.
            (200, "application/json"): {
                "anyOf": [
                    {"$ref": "#/components/schemas/Lyrics"},
                    {
                        "type": "object",
                        "required": ["language", "lines"],
                        "properties": {
                            "language": {"type": "string"},
                            "lines": {"type": "array", "items": {"$ref": "#/components/schemas/LyricLine"}},
                        },
                    },
                ]
            },
            **{(200, media): OpenApiTypes.BINARY for media in _DOWNLOAD_MEDIA_TYPES},
        },
        operation_id="lyrics_retrieve",
    )
    def get(self, request: Request, project_id: str) -> Response | HttpResponse:
        project = project_get_for_user(user=request.user, project_id=project_id)
        lyrics = lyrics_for_project(project=project)
        number = _version_param(request)
        lines = lyrics.lines if lyrics is not None else []
        if number is not None:
            if lyrics is None:
                raise Http404("No such version.")
            lines = lyrics_version_get(lyrics=lyrics, number=number).lines
        fmt = request.query_params.get("format")
        if fmt is not None:
            return _download(project=project, lyrics=lyrics, lines=lines, fmt=fmt)
        body = lyrics_body(job=job_latest(project=project, kind=Job.Kind.LYRICS), lyrics=lyrics, lines=lines)
        return Response(LyricsOutputSerializer(body).data)

    @extend_schema(request=AlignInputSerializer, responses={202: LyricsOutputSerializer}, operation_id="lyrics_align")
    def put(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        data = self.AlignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = lyrics_start(project=project, user=request.user, **data.validated_data)
        lyrics = lyrics_for_project(project=project)
        body = lyrics_body(job=job, lyrics=lyrics, lines=lyrics.lines if lyrics else [])
        return Response(LyricsOutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=EditInputSerializer, responses=LyricsOutputSerializer, operation_id="lyrics_edit")
    def patch(self, request: Request, project_id: str) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        data = self.EditInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lyrics = lyrics_edit(project=project, **data.validated_data)
        body = lyrics_body(job=job_latest(project=project, kind=Job.Kind.LYRICS), lyrics=lyrics, lines=lyrics.lines)
        return Response(LyricsOutputSerializer(body).data)


_VERSION_RE = re.compile(r"[1-9][0-9]{0,8}")  # ASCII digits: str.isdigit() also takes "²"


def _version_param(request: Request) -> int | None:
    raw = request.query_params.get("version")
    if raw is None:
        return None
    if not _VERSION_RE.fullmatch(raw):
        message = _("A version is a whole number, 1 or more.")
        raise IsoMixError(message, code=ErrorCode.INVALID_INPUT, extra={"fields": {"version": [message]}})
    return int(raw)


def _download(*, project, lyrics, lines: list, fmt: str) -> HttpResponse:
    if fmt not in LYRICS_FORMATS:
        message = _("Lyrics download as %(formats)s.") % {"formats": ", ".join(LYRICS_FORMATS)}
        raise IsoMixError(message, code=ErrorCode.INVALID_INPUT, extra={"formats": list(LYRICS_FORMATS)})
    if lyrics is None or not lines:
        raise NotReady(_("This song has no lyrics yet."), code=ErrorCode.NOT_READY)
    doc = LyricsDoc.from_json(lines, duration_s=project.duration_s)
    content, content_type = lyrics_render(doc=doc, fmt=fmt, title=project.name, language=lyrics.language)
    response = HttpResponse(content, content_type=content_type)
    suffix = "-words" if fmt == "lrc-words" else ""
    filename = f"{filename_slug(project.name)}-lyrics{suffix}.{LYRICS_EXTENSIONS[fmt]}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
