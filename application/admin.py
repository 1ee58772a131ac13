"""The operators' view: users come from Django; projects, stems, jobs, exports, saved mixes, style
sounds and remixes here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from domain.models import (
    Analysis,
    Export,
    Job,
    Lyrics,
    LyricsVersion,
    MixPreset,
    MixState,
    Project,
    Remix,
    RemixStem,
    Stem,
    StyleSound,
    WorkerBeat,
)
from domain.services import style_delete
from model.services import analysis_start, job_retry, project_remove
from model.services.remix import remix_remove


class StemInline(admin.TabularInline):
    model = Stem
    fields = ["kind", "file_key", "preview_key", "duration_s", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class JobInline(admin.TabularInline):
    model = Job
    fields = ["kind", "state", "progress", "stage", "attempts", "user_error", "engine", "started_at", "finished_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "status", "duration_s", "engine", "model_name", "created_at"]
    list_filter = ["status", "engine", "created_at"]
    search_fields = ["name", "original_filename", "owner__username", "sha256"]
    readonly_fields = [f.name for f in Project._meta.fields]
    inlines = [StemInline, JobInline]
    actions = ["delete_with_files", "analyse_again"]

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # the plain delete would leave the files behind
        return actions

    def delete_model(self, request: HttpRequest, obj: Project) -> None:
        project_remove(project=obj)

    @admin.action(description="Delete selected projects and their files")
    def delete_with_files(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        count = 0
        for project in queryset:
            project_remove(project=project)
            count += 1
        self.message_user(request, f"Deleted {count} project(s) and their files.", messages.SUCCESS)

    @admin.action(description="Analyse beats and key again")
    def analyse_again(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        started = [analysis_start(project=p) for p in queryset.filter(status=Project.Status.READY)]
        self.message_user(request, f"Queued {len(started)} analysis job(s).", messages.SUCCESS)


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    list_display = ["project", "tempo_bpm", "time_signature", "key", "loudness_lufs", "engine", "updated_at"]
    list_filter = ["time_signature", "engine"]
    search_fields = ["project__name"]
    readonly_fields = [f.name for f in Analysis._meta.fields]


class LyricsVersionInline(admin.TabularInline):
    model = LyricsVersion
    fields = ["number", "source", "language", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Lyrics)
class LyricsAdmin(admin.ModelAdmin):
    list_display = ["project", "language", "source", "version", "model_name", "updated_at"]
    list_filter = ["source", "language"]
    search_fields = ["project__name"]
    readonly_fields = [f.name for f in Lyrics._meta.fields]
    inlines = [LyricsVersionInline]


@admin.register(Stem)
class StemAdmin(admin.ModelAdmin):
    list_display = ["project", "kind", "duration_s", "created_at"]
    list_filter = ["kind"]
    search_fields = ["project__name"]
    exclude = ["peaks"]
    readonly_fields = ["project", "kind", "file_key", "preview_key", "peaks_per_second", "duration_s", "created_at"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "project", "style", "state", "progress", "stage", "attempts", "engine", "created_at"]
    list_filter = ["state", "kind", "engine"]
    search_fields = ["project__name", "style__name", "id"]
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ["retry"]

    @admin.action(description="Retry selected failed jobs")
    def retry(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        retried = 0
        for job in queryset.filter(state=Job.State.FAILED):
            job_retry(job=job)
            retried += 1
        skipped = queryset.count() - retried
        self.message_user(request, f"Queued {retried} job(s) again; skipped {skipped} not failed.", messages.INFO)


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "format", "bitrate_kbps", "region", "job", "created_at"]
    list_filter = ["format", "region"]
    readonly_fields = ["project", "job", "format", "bitrate_kbps", "region", "settings", "file_key", "created_at"]


class _ReadOnlyMixAdmin(admin.ModelAdmin):
    """Saved mixes are the users' own: operators look, and may delete one that breaks a page."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(MixState)
class MixStateAdmin(_ReadOnlyMixAdmin):
    list_display = ["project", "updated_at"]
    search_fields = ["project__name", "project__owner__username"]
    readonly_fields = ["project", "settings", "updated_at"]


@admin.register(MixPreset)
class MixPresetAdmin(_ReadOnlyMixAdmin):
    list_display = ["name", "project", "updated_at", "created_at"]
    search_fields = ["name", "project__name", "project__owner__username"]
    readonly_fields = ["project", "name", "settings", "created_at", "updated_at"]


@admin.register(WorkerBeat)
class WorkerBeatAdmin(admin.ModelAdmin):
    list_display = ["name", "queues", "started_at", "seen_at"]
    readonly_fields = ["name", "queues", "started_at", "seen_at"]


@admin.register(StyleSound)
class StyleSoundAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "status", "grain_count", "duration_s", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "owner__username"]
    exclude = ["scatter"]
    readonly_fields = [f.name for f in StyleSound._meta.fields if f.name != "scatter"]
    inlines = [JobInline]
    actions = ["delete_with_files"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a style sound is uploaded by its owner, and checked then

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would leave the files behind
        return actions

    def delete_model(self, request: HttpRequest, obj: StyleSound) -> None:
        style_delete(style=obj)

    @admin.action(description="Delete selected style sounds and their files")
    def delete_with_files(self, request: HttpRequest, queryset: QuerySet[StyleSound]) -> None:
        for style in queryset:
            style_delete(style=style)


class RemixStemInline(admin.TabularInline):
    model = RemixStem
    extra = 0
    can_delete = False
    exclude = ["peaks"]
    readonly_fields = ["kind", "file_key", "preview_key", "duration_s"]


@admin.register(Remix)
class RemixAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "job", "created_at"]
    search_fields = ["project__name", "id"]
    readonly_fields = ["project", "job", "stems", "settings", "file_key", "created_at"]
    inlines = [RemixStemInline]
    actions = ["delete_with_files"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a remix is asked for by the song's owner

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would leave the files and the job behind
        return actions

    def delete_model(self, request: HttpRequest, obj: Remix) -> None:
        remix_remove(remix=obj)

    @admin.action(description="Delete selected remixes and their files")
    def delete_with_files(self, request: HttpRequest, queryset: QuerySet[Remix]) -> None:
        for remix in queryset.select_related("job"):
            remix_remove(remix=remix)
