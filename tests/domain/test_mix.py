"""Mixer settings: ranges, the JSON they travel as, and the names exports get."""

from __future__ import annotations

import math

import pytest

from domain.mix import (
    LOOP_MIN_S,
    LoopRegion,
    MixSettings,
    StemMix,
    export_basename,
    filename_slug,
    heard_label,
    mixer_ranges,
)

FOUR = ("vocals", "drums", "bass", "other")
SIX = ("vocals", "drums", "bass", "guitar", "piano", "other")


def _heard(*heard: str, kinds: tuple[str, ...] = FOUR, **extra) -> MixSettings:
    """Settings where exactly ``heard`` are audible (the others muted), one strip per kind."""
    return MixSettings(stems={k: StemMix(mute=k not in heard) for k in kinds}, **extra)


def test_settings_round_trip_through_json_with_tempo_transpose_and_loop():
    mix = MixSettings(
        master_gain_db=-2.0,
        stems={"vocals": StemMix(gain_db=-6.0, solo=True, pan=-0.5)},
        tempo=0.8,
        transpose=-2,
        loop=LoopRegion(start_s=12.0, end_s=20.0, enabled=False),
    )

    data = mix.to_json()

    assert data == {
        "master_gain_db": -2.0,
        "stems": {"vocals": {"gain_db": -6.0, "mute": False, "solo": True, "pan": -0.5}},
        "tempo": 0.8,
        "transpose": -2,
        "loop": {"start_s": 12.0, "end_s": 20.0, "enabled": False},
    }
    assert MixSettings.from_json(data) == mix


def test_an_old_saved_export_reads_with_neutral_tempo_key_and_no_loop():
    old = {"master_gain_db": -1.5, "stems": {"bass": {"gain_db": 0.0, "mute": True, "solo": False, "pan": 0.0}}}

    mix = MixSettings.from_json(old)

    assert (mix.tempo, mix.transpose, mix.loop) == (1.0, 0, None)
    assert mix.stems["bass"].mute is True
    assert mix.to_json()["loop"] is None


def test_for_kinds_keeps_tempo_transpose_and_loop():
    mix = MixSettings(tempo=1.25, transpose=3, loop=LoopRegion(start_s=1.0, end_s=2.0))

    again = mix.for_kinds(["vocals"])

    assert (again.tempo, again.transpose, again.loop) == (1.25, 3, mix.loop)
    assert again.stems == {"vocals": StemMix()}


@pytest.mark.parametrize(
    "fields",
    [
        {"tempo": 0.45},
        {"tempo": 1.55},
        {"tempo": math.nan},
        {"transpose": 13},
        {"transpose": -13},
        {"transpose": 1.5},
        {"transpose": True},
        {"master_gain_db": 6.5},
    ],
    ids=["slow", "fast", "nan", "up", "down", "half", "bool", "master"],
)
def test_settings_outside_the_ranges_are_refused(fields):
    with pytest.raises(ValueError):
        MixSettings(**fields)


@pytest.mark.parametrize(
    ("start_s", "end_s"),
    [(5.0, 5.0), (5.0, 4.0), (5.0, 5.0 + LOOP_MIN_S / 2), (-1.0, 2.0), (0.0, math.inf), (math.nan, 1.0)],
    ids=["empty", "backwards", "too-short", "negative", "endless", "nan"],
)
def test_a_loop_that_is_not_a_region_is_refused(start_s, end_s):
    with pytest.raises(ValueError):
        LoopRegion(start_s=start_s, end_s=end_s)


def test_the_shortest_loop_is_taken():
    assert LoopRegion(start_s=0.0, end_s=LOOP_MIN_S).duration_s == pytest.approx(LOOP_MIN_S)


@pytest.mark.parametrize(
    "data",
    [
        {"tempo": "fast"},
        {"transpose": "2"},
        {"loop": {"start_s": 1.0}},
        {"loop": {"start_s": "1", "end_s": 2.0}},
        {"stems": {"vocals": {"gain_db": 0.0, "volume": 1}}},
        {"stems": {"vocals": {"mute": "yes"}}},
    ],
)
def test_from_json_refuses_what_to_json_cannot_write(data):
    with pytest.raises((ValueError, TypeError, KeyError)):
        MixSettings.from_json(data)


def test_from_json_takes_a_whole_float_as_semitones():
    assert MixSettings.from_json({"transpose": -2.0}).transpose == -2


def test_pitch_ratio_is_two_to_the_semitones_over_twelve():
    assert MixSettings(transpose=-12).pitch_ratio == 0.5
    assert MixSettings(transpose=7).pitch_ratio == pytest.approx(1.4983, abs=1e-4)
    assert not MixSettings().changes_time_or_pitch
    assert MixSettings(tempo=0.9).changes_time_or_pitch and MixSettings(transpose=1).changes_time_or_pitch


def test_mixer_ranges_carry_tempo_transpose_loop_and_bitrates():
    ranges = mixer_ranges()

    assert ranges["tempo"] == {"min": 0.5, "max": 1.5, "step": 0.05}
    assert ranges["transpose"] == {"min": -12, "max": 12, "step": 1}
    assert ranges["loop_min_s"] == 0.1
    assert ranges["mp3_bitrates"] == [128, 192, 256, 320]
    assert ranges["mp3_bitrate_default"] == 192
    assert ranges["gain_db"] == {"min": -60.0, "max": 6.0, "step": 0.5}


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("My Song", "my-song"),
        ("Canção do Mar!", "cancao-do-mar"),
        ("  --Águas de Março--  ", "aguas-de-marco"),
        ("AC/DC: Back in Black", "acdc-back-in-black"),
        ("東京", "song"),
        ("", "song"),
    ],
)
def test_slugs_are_ascii(name, slug):
    assert filename_slug(name) == slug
    assert filename_slug(name).isascii()


def test_a_long_name_is_cut_at_a_word():
    slug = filename_slug("word " * 40)

    assert len(slug) <= 80
    assert not slug.endswith("-")


@pytest.mark.parametrize(
    ("heard", "kinds", "label"),
    [
        (FOUR, FOUR, "mix"),
        (("drums", "bass", "other"), FOUR, "instrumental"),
        (("vocals",), FOUR, "vocals"),
        (("drums",), FOUR, "drums"),
        (("other",), FOUR, "other"),
        (("drums", "bass"), FOUR, "drums-and-bass"),
        (("bass", "vocals"), FOUR, "vocals-and-bass"),
        (("vocals", "bass", "other"), FOUR, "without-drums"),
        (("vocals", "drums", "other"), FOUR, "without-bass"),
        ((), FOUR, "silence"),
        (("vocals", "drums", "bass"), SIX, "vocals-drums-and-bass"),
        (("drums", "bass", "guitar", "piano", "other"), SIX, "instrumental"),
        (("vocals", "drums", "bass", "piano", "other"), SIX, "without-guitar"),
        (("other",), ("vocals", "other"), "instrumental"),
        (("vocals",), ("vocals",), "mix"),
    ],
)
def test_what_is_heard_names_the_export(heard, kinds, label):
    assert heard_label(_heard(*heard, kinds=kinds)) == label


def test_solo_decides_what_is_heard():
    strips = {"vocals": StemMix(solo=True), "drums": StemMix(solo=True), "bass": StemMix(), "other": StemMix()}

    assert heard_label(MixSettings(stems=strips)) == "vocals-and-drums"


def test_export_name_of_a_whole_song_mix():
    assert export_basename(project_name="My Song", settings=_heard(*FOUR), region="all") == "my-song-mix"


def test_export_name_adds_tempo_in_percent_and_key():
    slow_down = _heard("drums", "bass", "other", tempo=0.8, transpose=-2)
    up = _heard(*FOUR, tempo=1.25, transpose=3)

    assert export_basename(project_name="My Song", settings=slow_down, region="all") == (
        "my-song-instrumental-tempo80-key-2"
    )
    assert export_basename(project_name="My Song", settings=up, region="all") == "my-song-mix-tempo125-key+3"


def test_export_name_of_a_loop_gives_the_region_in_minutes_and_seconds():
    loop = LoopRegion(start_s=72.4, end_s=80.2)
    mix = _heard("vocals", loop=loop)

    assert export_basename(project_name="My Song", settings=mix, region="loop") == "my-song-vocals-loop-1m12s-1m21s"
    assert export_basename(project_name="My Song", settings=mix, region="all") == "my-song-vocals"


def test_export_name_of_the_contracts_example_loop():
    mix = _heard(*FOUR, loop=LoopRegion(start_s=12.0, end_s=20.0))

    assert export_basename(project_name="My Song", settings=mix, region="loop") == "my-song-mix-loop-0m12s-0m20s"


def test_export_names_are_ascii_whatever_the_song_is_called():
    name = export_basename(project_name="Canção Nº 1", settings=_heard("vocals", transpose=5), region="all")

    assert name == "cancao-no-1-vocals-key+5"
    assert name.isascii()
