"""Shapes shared by the API views: the outputs, and the mixer settings every mix input takes.

Inputs particular to one operation live in its view. Messages a worker stored (a job's
``user_error``) are English message ids, translated here, when they are shown.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from domain import mix
from domain.models import Export, Job, MixPreset, Project, Stem
from domain.selectors import stems_ordered


def shown_message(message: str) -> str:
    """A message a worker stored (an English message id) in the language of the request."""
    return gettext(message)


# ---------------------------------------------------------------- mixer settings (input)
#
# The mixer inputs are JSON only, and take JSON's types as the schema states them: DRF's own
# fields also take `true` for 1.0, `"3"` for 3 and `"yes"` for true, which the schema (and a
# generated client) calls invalid.


class StrictFloatField(serializers.FloatField):
    """A JSON number (not a boolean, not a string)."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (a number with no fraction: 3 or 3.0; not a boolean, not a string)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false``."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictCharField(serializers.CharField):
    """A JSON string (DRF's also takes the number 0 as "0")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    """One of the choices as the schema's enum states it (DRF's also takes ``"192"`` for 192)."""

    def to_internal_value(self, data: Any) -> Any:
        try:
            known = not isinstance(data, bool) and data in self.choices
        except TypeError:  # a list or an object: unhashable
            known = False
        if not known:
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class StemMixInputSerializer(serializers.Serializer):
    """One channel strip; the ranges are ``domain.mix``'s, the same the page's faders use."""

    gain_db = StrictFloatField(min_value=mix.GAIN_DB_MIN, max_value=mix.GAIN_DB_MAX, default=0.0)
    mute = StrictBooleanField(default=False)
    solo = StrictBooleanField(default=False)
    pan = StrictFloatField(min_value=mix.PAN_MIN, max_value=mix.PAN_MAX, default=0.0)

    class Meta:
        ref_name = "StemMix"


class LoopInputSerializer(serializers.Serializer):
    start_s = StrictFloatField(min_value=0.0)
    end_s = StrictFloatField(min_value=0.0)
    enabled = StrictBooleanField(default=True)

    class Meta:
        ref_name = "LoopRegion"

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["end_s"] - attrs["start_s"] >= mix.LOOP_MIN_S:
            raise serializers.ValidationError(
                _("A loop ends at least %(min).1f s after it starts.") % {"min": mix.LOOP_MIN_S}, code="invalid"
            )
        return attrs


class MixSettingsInputSerializer(serializers.Serializer):
    """The mixer settings of the shared contract; validates to a :class:`domain.mix.MixSettings`.

    Every field may be left out (at rest: 0 dB, centre, tempo 1, no transpose, no loop).
    """

    master_gain_db = StrictFloatField(min_value=mix.GAIN_DB_MIN, max_value=mix.GAIN_DB_MAX, default=0.0)
    stems = serializers.DictField(child=StemMixInputSerializer(), required=False, default=dict)
    tempo = StrictFloatField(min_value=mix.TEMPO_MIN, max_value=mix.TEMPO_MAX, default=1.0)
    transpose = StrictIntegerField(min_value=mix.TRANSPOSE_MIN, max_value=mix.TRANSPOSE_MAX, default=0)
    loop = LoopInputSerializer(required=False, allow_null=True, default=None)

    class Meta:
        ref_name = "MixSettingsInput"

    def validate(self, attrs: dict[str, Any]) -> mix.MixSettings:  # type: ignore[override]
        return mix_settings_from(attrs)


def mix_settings_from(attrs: dict[str, Any]) -> mix.MixSettings:
    """The :class:`~domain.mix.MixSettings` of validated mixer fields (a 400 for what the fields let by)."""
    loop = attrs.get("loop")
    try:
        return mix.MixSettings(
            master_gain_db=attrs.get("master_gain_db", 0.0),
            stems={kind: mix.StemMix(**strip) for kind, strip in (attrs.get("stems") or {}).items()},
            tempo=attrs.get("tempo", 1.0),
            transpose=attrs.get("transpose", 0),
            loop=mix.LoopRegion(**loop) if loop is not None else None,
        )
    except ValueError as exc:  # NaN written as a string, which the number fields let through
        raise serializers.ValidationError(_("These mixer settings are not valid."), code="invalid") from exc


# ---------------------------------------------------------------- mixer settings (output)


class StemMixOutputSerializer(serializers.Serializer):
    gain_db = serializers.FloatField()
    mute = serializers.BooleanField()
    solo = serializers.BooleanField()
    pan = serializers.FloatField()

    class Meta:
        ref_name = "StemMixOutput"


class LoopOutputSerializer(serializers.Serializer):
    start_s = serializers.FloatField()
    end_s = serializers.FloatField()
    enabled = serializers.BooleanField()

    class Meta:
        ref_name = "LoopRegionOutput"


class MixSettingsOutputSerializer(serializers.Serializer):
    """A settings document as ``MixSettings.to_json()`` writes it (one strip per stem of the song)."""

    master_gain_db = serializers.FloatField()
    stems = serializers.DictField(child=StemMixOutputSerializer())
    tempo = serializers.FloatField()
    transpose = serializers.IntegerField()
    loop = LoopOutputSerializer(allow_null=True)

    class Meta:
        ref_name = "MixSettings"


class MixPresetOutputSerializer(serializers.ModelSerializer):
    settings = MixSettingsOutputSerializer()

    class Meta:
        model = MixPreset
        fields = ["id", "name", "settings", "created_at", "updated_at"]


# ---------------------------------------------------------------- projects, stems, jobs, exports


class JobOutputSerializer(serializers.ModelSerializer):
    duration_s = serializers.FloatField(read_only=True, allow_null=True)
    user_error = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id", "kind", "state", "progress", "stage", "user_error", "engine", "model_name",
            "started_at", "finished_at", "duration_s",
        ]  # fmt: skip

    def get_user_error(self, job: Job) -> str:
        return shown_message(job.user_error)


class StemOutputSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()
    peaks_url = serializers.SerializerMethodField()

    class Meta:
        model = Stem
        fields = ["kind", "duration_s", "download_url", "preview_url", "peaks_url"]

    @staticmethod
    def _url(stem: Stem, name: str) -> str:
        return reverse(name, kwargs={"project_id": stem.project_id, "kind": stem.kind})

    def get_download_url(self, stem: Stem) -> str:
        return self._url(stem, "api:stem-download")

    def get_preview_url(self, stem: Stem) -> str:
        return self._url(stem, "api:stem-preview")

    def get_peaks_url(self, stem: Stem) -> str:
        return self._url(stem, "api:stem-peaks")


class SeparationChoiceSerializer(serializers.Serializer):
    """One separation engine offered (``available``: this server has it and the plan includes it)."""

    name = serializers.CharField()
    label = serializers.CharField()
    note = serializers.CharField()
    stems = serializers.IntegerField()
    installed = serializers.BooleanField()
    in_plan = serializers.BooleanField()
    available = serializers.BooleanField()


class ProjectOutputSerializer(serializers.ModelSerializer):
    # Both read the project row only (isomix/status_cache.py fingerprints the rows this answer reads).
    jobs = JobOutputSerializer(many=True, read_only=True)
    stems = serializers.SerializerMethodField()
    engine_label = serializers.CharField(read_only=True)
    error = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id", "name", "status", "error", "original_filename", "format", "duration_s", "sample_rate",
            "channels", "size_bytes", "sha256", "engine", "engine_label", "model_name", "created_at", "updated_at",
            "expires_at", "jobs", "stems",
        ]  # fmt: skip

    def get_error(self, project: Project) -> str:
        return shown_message(project.error)

    @extend_schema_field(StemOutputSerializer(many=True))
    def get_stems(self, project: Project) -> list[dict]:
        return StemOutputSerializer(stems_ordered(project), many=True).data


class ProjectListOutputSerializer(serializers.ModelSerializer):
    engine_label = serializers.CharField(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id", "name", "status", "duration_s", "engine", "engine_label", "model_name", "created_at", "expires_at",
        ]  # fmt: skip


class ExportOutputSerializer(serializers.ModelSerializer):
    # The job whose ``job.progress`` events (WebSocket) the page follows for this export.
    job = serializers.UUIDField(source="job_id", read_only=True)
    state = serializers.ChoiceField(choices=Job.State.choices, source="job.state")
    progress = serializers.IntegerField(source="job.progress", min_value=0, max_value=100)
    error = serializers.SerializerMethodField()
    filename = serializers.CharField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id", "project", "job", "format", "bitrate_kbps", "region", "settings", "filename", "state", "progress",
            "error", "download_url", "created_at",
        ]  # fmt: skip

    def get_error(self, export: Export) -> str:
        return shown_message(export.job.user_error)

    def get_download_url(self, export: Export) -> str | None:
        if export.job.state != Job.State.DONE or not export.file_key:
            return None
        return reverse("api:export-download", kwargs={"export_id": export.id})
