"""Writes to the domain: projects, stems, jobs, exports and saved mixes, and their files.

Files are written whole to the storage before a row records them, and deleting a row
deletes its files once the deletion commits. One module per concern; every service is
importable from here (``from domain.services import stems_save``).
"""

from domain.services.exports import export_create, export_file_save
from domain.services.files import (
    storage_delete_now,
    storage_delete_on_commit,
    storage_local_copy,
    storage_open_stream,
    storage_put,
)
from domain.services.jobs import (
    job_create,
    job_engine_set,
    job_heartbeat,
    job_mark_enqueued,
    job_progress_set,
    job_set_state,
    job_target_failed,
)
from domain.services.karaoke import LYRICS_LANGUAGES, analysis_save, lyrics_save
from domain.services.mix import (
    mix_preset_delete,
    mix_preset_save,
    mix_settings_for_project,
    mix_state_reset,
    mix_state_save,
)
from domain.services.projects import (
    project_create,
    project_delete,
    project_set_status,
    projects_expiry_cap,
    projects_expiry_extend,
)
from domain.services.remix import (
    remix_create,
    remix_delete,
    remix_files_save,
    style_delete,
    style_grains_save,
    style_set_failed,
    style_set_pending,
    style_store,
    styles_record,
)
from domain.services.stems import stems_save, stems_share
from domain.services.uploads import InspectedUpload, upload_inspect

__all__ = [
    "LYRICS_LANGUAGES",
    "InspectedUpload",
    "analysis_save",
    "lyrics_save",
    "export_create",
    "export_file_save",
    "job_create",
    "job_engine_set",
    "job_heartbeat",
    "job_mark_enqueued",
    "job_progress_set",
    "job_set_state",
    "job_target_failed",
    "mix_preset_delete",
    "mix_preset_save",
    "mix_settings_for_project",
    "mix_state_reset",
    "mix_state_save",
    "project_create",
    "project_delete",
    "project_set_status",
    "remix_create",
    "remix_delete",
    "remix_files_save",
    "style_delete",
    "style_grains_save",
    "style_set_failed",
    "style_set_pending",
    "style_store",
    "styles_record",
    "projects_expiry_cap",
    "projects_expiry_extend",
    "stems_save",
    "stems_share",
    "storage_delete_now",
    "storage_delete_on_commit",
    "storage_local_copy",
    "storage_open_stream",
    "storage_put",
    "upload_inspect",
]
