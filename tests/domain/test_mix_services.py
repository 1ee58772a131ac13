"""The saved mixer and the presets: checked against the project, one per name, at most 50."""

from __future__ import annotations

import pytest
from django.http import Http404

from domain.exceptions import IsoMixError, PresetLimit
from domain.mix import MIX_PRESETS_MAX, LoopRegion, MixSettings, StemMix
from domain.models import MixPreset, MixState, Project
from domain.selectors import mix_preset_get_for_user, mix_presets_for_project, mix_state_get
from domain.services import (
    mix_preset_delete,
    mix_preset_save,
    mix_settings_for_project,
    mix_state_reset,
    mix_state_save,
    project_delete,
)
from tests.factories import mix_preset_create, project_create_ready, user_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def project() -> Project:
    return project_create_ready(owner=user_create(), duration_s=2.0, kinds=("vocals", "drums", "bass"))


def test_nothing_saved_is_every_fader_at_rest_for_the_projects_stems(project):
    saved = mix_state_get(project=project)

    assert saved.updated_at is None
    assert saved.settings == MixSettings(stems={k: StemMix() for k in ("vocals", "drums", "bass")})


def test_a_saved_mix_comes_back_with_every_stem_in_display_order(project):
    mix = MixSettings(
        master_gain_db=-3.0, stems={"bass": StemMix(mute=True)}, tempo=0.75, transpose=-5,
        loop=LoopRegion(start_s=0.5, end_s=1.5),
    )  # fmt: skip

    mix_state_save(project=project, mix=mix)
    saved = mix_state_get(project=project)

    assert saved.updated_at is not None
    assert list(saved.settings.stems) == ["vocals", "drums", "bass"]
    assert saved.settings == mix.for_kinds(["vocals", "drums", "bass"])


def test_saving_again_replaces_and_reset_forgets(project):
    mix_state_save(project=project, mix=MixSettings(tempo=0.5))
    mix_state_save(project=project, mix=MixSettings(tempo=1.5))

    assert MixState.objects.count() == 1
    assert mix_state_get(project=project).settings.tempo == 1.5

    mix_state_reset(project=project)

    assert MixState.objects.count() == 0
    assert mix_state_get(project=project).updated_at is None


def test_a_stem_the_project_lacks_is_refused_and_nothing_is_saved(project):
    with pytest.raises(IsoMixError) as excinfo:
        mix_state_save(project=project, mix=MixSettings(stems={"piano": StemMix()}))

    assert excinfo.value.code == "invalid_input"
    assert excinfo.value.extra == {"stems": ["piano"]}
    assert MixState.objects.count() == 0


def test_a_loop_past_the_end_of_the_song_is_refused(project):
    with pytest.raises(IsoMixError) as excinfo:
        mix_settings_for_project(project=project, mix=MixSettings(loop=LoopRegion(start_s=1.0, end_s=2.5)))

    assert excinfo.value.code == "invalid_input"
    assert excinfo.value.extra["duration_s"] == pytest.approx(2.0)


def test_a_loop_to_the_measured_end_of_the_previews_is_taken(project):
    # The page measures the MP3 previews, a few tens of milliseconds longer than the song.
    mix = mix_settings_for_project(project=project, mix=MixSettings(loop=LoopRegion(start_s=1.0, end_s=2.05)))

    assert mix.loop.end_s == 2.05


def test_a_saved_mix_no_longer_valid_gives_the_defaults(project):
    MixState.objects.create(project=project, settings={"master_gain_db": 99, "stems": {}})

    saved = mix_state_get(project=project)

    assert saved.updated_at is None
    assert saved.settings.master_gain_db == 0.0


def test_a_preset_is_saved_under_its_trimmed_name_and_overwritten_by_name(project):
    first, created = mix_preset_save(project=project, name="  No drums ", mix=MixSettings(tempo=0.8))
    again, created_again = mix_preset_save(project=project, name="No drums", mix=MixSettings(tempo=0.9))

    assert created and not created_again
    assert again.id == first.id
    assert MixPreset.objects.get().name == "No drums"
    assert MixSettings.from_json(MixPreset.objects.get().settings).tempo == 0.9


@pytest.mark.parametrize("name", ["", "   ", "\x07\x08", "x" * 81])
def test_a_preset_name_must_have_1_to_80_characters(project, name):
    with pytest.raises(IsoMixError) as excinfo:
        mix_preset_save(project=project, name=name, mix=MixSettings())

    assert excinfo.value.code == "invalid_input"
    assert MixPreset.objects.count() == 0


def test_presets_stop_at_the_limit_but_one_can_still_be_overwritten(project):
    for i in range(MIX_PRESETS_MAX):
        mix_preset_create(project=project, name=f"p{i}")

    with pytest.raises(PresetLimit) as excinfo:
        mix_preset_save(project=project, name="one more", mix=MixSettings())
    _, created = mix_preset_save(project=project, name="p7", mix=MixSettings(transpose=2))

    assert excinfo.value.code == "preset_limit"
    assert excinfo.value.extra == {"max": MIX_PRESETS_MAX}
    assert not created
    assert MixPreset.objects.count() == MIX_PRESETS_MAX
    assert not MixPreset.objects.filter(name="one more").exists()


def test_presets_are_listed_newest_first_and_per_project(project):
    other = project_create_ready(owner=project.owner, duration_s=0.5)
    mix_preset_create(project=project, name="old")
    mix_preset_create(project=project, name="new")
    mix_preset_create(project=other, name="elsewhere")
    mix_preset_save(project=project, name="old", mix=MixSettings(tempo=0.6))  # saved last: now the newest

    assert [p.name for p in mix_presets_for_project(project=project)] == ["old", "new"]


def test_another_users_preset_does_not_exist(project):
    preset = mix_preset_create(project=project, name="mine")

    with pytest.raises(Http404):
        mix_preset_get_for_user(user=user_create(), preset_id=preset.id)
    assert mix_preset_get_for_user(user=project.owner, preset_id=preset.id) == preset


def test_deleting_presets_and_projects(project, django_capture_on_commit_callbacks):
    keep = mix_preset_create(project=project, name="keep")
    mix_preset_delete(preset=mix_preset_create(project=project, name="drop"))
    mix_state_save(project=project, mix=MixSettings())

    assert list(MixPreset.objects.all()) == [keep]

    with django_capture_on_commit_callbacks(execute=True):
        project_delete(project=project)

    assert MixPreset.objects.count() == 0 and MixState.objects.count() == 0
