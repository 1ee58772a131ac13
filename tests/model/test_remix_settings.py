"""The remix request's settings block, parsed strictly."""

from __future__ import annotations

import json

import pytest

from model.pipelines.remix.settings import RANGES, RemixSettings, SettingsError


def test_an_empty_block_gives_the_defaults():
    # when
    settings = RemixSettings.from_json({})

    # then
    assert settings == RemixSettings()
    assert settings.to_json() == {
        "grain_ms": 120.0,
        "pitch_mapping": True,
        "envelope": True,
        "snap_to_beats": False,
        "onset_delta": 0.06,
        "seed": 0,
    }


def test_every_field_is_read_and_written_back():
    # given
    data = {
        "grain_ms": 250,
        "pitch_mapping": False,
        "envelope": False,
        "snap_to_beats": True,
        "onset_delta": 0.2,
        "seed": 2**31 - 1,
    }

    # when
    settings = RemixSettings.from_json(data)

    # then: integers become floats where floats are meant, and the JSON round-trips
    assert settings.grain_ms == 250.0 and isinstance(settings.grain_ms, float)
    assert settings.seed == 2**31 - 1
    assert RemixSettings.from_json(json.loads(json.dumps(settings.to_json()))) == settings
    assert settings.to_json() == {**data, "grain_ms": 250.0}


def test_the_bounds_themselves_are_accepted():
    # given
    low = {name: low for name, (low, _high) in RANGES.items()}
    high = {name: high for name, (_low, high) in RANGES.items()}

    # when / then
    assert RemixSettings.from_json(low).grain_ms == 20.0
    assert RemixSettings.from_json(high).onset_delta == 1.0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"grain_ms": 19.9}, "grain_ms"),
        ({"grain_ms": 1000.5}, "grain_ms"),
        ({"onset_delta": 0.0}, "onset_delta"),
        ({"onset_delta": 1.01}, "onset_delta"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**31}, "seed"),
    ],
)
def test_a_value_out_of_range_is_refused_by_name(data, field):
    with pytest.raises(SettingsError, match=f"^{field}: must be between") as raised:
        RemixSettings.from_json(data)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"grain_ms": True}, "grain_ms"),  # bool is an int in Python: not a number here
        ({"grain_ms": "120"}, "grain_ms"),
        ({"grain_ms": None}, "grain_ms"),
        ({"onset_delta": [0.1]}, "onset_delta"),
        ({"pitch_mapping": 1}, "pitch_mapping"),
        ({"envelope": "true"}, "envelope"),
        ({"snap_to_beats": None}, "snap_to_beats"),
        ({"seed": 1.0}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": False}, "seed"),
        ({"seed": "7"}, "seed"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_by_name(data, field):
    with pytest.raises(SettingsError, match=f"^{field}: must be") as raised:
        RemixSettings.from_json(data)
    assert raised.value.field == field


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("field", ["grain_ms", "onset_delta"])
def test_nan_and_infinity_are_refused(field, value):
    with pytest.raises(SettingsError, match=f"^{field}: must be a finite number"):
        RemixSettings.from_json({field: value})


def test_an_unknown_key_is_refused_by_name():
    with pytest.raises(SettingsError, match="^grain_size: unknown setting") as raised:
        RemixSettings.from_json({"grain_ms": 100, "grain_size": 100})
    assert raised.value.field == "grain_size"


@pytest.mark.parametrize("data", [None, [], "grain_ms=100", 5])
def test_a_block_that_is_no_object_is_refused(data):
    with pytest.raises(SettingsError, match="^settings: must be an object"):
        RemixSettings.from_json(data)


def test_settings_errors_are_value_errors_and_construction_is_checked_too():
    # when / then
    with pytest.raises(ValueError, match="grain_ms"):
        RemixSettings(grain_ms=5.0)
