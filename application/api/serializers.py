"""Output shapes shared by the API views (inputs live in each view)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from domain.models import Export, Job, Project, Stem
from domain.selectors import stems_ordered


class JobOutputSerializer(serializers.ModelSerializer):
    duration_s = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = [
            "id", "kind", "state", "progress", "stage", "user_error", "engine", "model_name",
            "started_at", "finished_at", "duration_s",
        ]  # fmt: skip


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


class ProjectOutputSerializer(serializers.ModelSerializer):
    jobs = JobOutputSerializer(many=True, read_only=True)
    stems = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id", "name", "status", "error", "original_filename", "format", "duration_s", "sample_rate",
            "channels", "size_bytes", "sha256", "engine", "model_name", "created_at", "updated_at", "jobs", "stems",
        ]  # fmt: skip

    @extend_schema_field(StemOutputSerializer(many=True))
    def get_stems(self, project: Project) -> list[dict]:
        return StemOutputSerializer(stems_ordered(project), many=True).data


class ProjectListOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "status", "duration_s", "engine", "model_name", "created_at"]


class ExportOutputSerializer(serializers.ModelSerializer):
    # The job whose ``job.progress`` events (WebSocket) the page follows for this export.
    job = serializers.UUIDField(source="job_id", read_only=True)
    state = serializers.CharField(source="job.state")
    progress = serializers.IntegerField(source="job.progress")
    error = serializers.CharField(source="job.user_error")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id", "project", "job", "format", "settings", "state", "progress", "error", "download_url", "created_at",
        ]  # fmt: skip

    def get_download_url(self, export: Export) -> str | None:
        if export.job.state != Job.State.DONE or not export.file_key:
            return None
        return reverse("api:export-download", kwargs={"export_id": export.id})
