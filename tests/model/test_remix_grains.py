"""Grain libraries: built from generated style sounds whose grains are known, stored as npz,
and refused when the npz is hostile."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from model.pipelines.remix.grains import (
    LIBRARY_SR,
    GrainLibrary,
    GrainParams,
    NoGrains,
    grain_library_build,
)

SR = LIBRARY_SR


def _burst(f0_hz: float, *, duration_s: float, amplitude: float, attack_s: float = 0.0) -> np.ndarray:
    """A harmonic tone (three partials) with a linear attack of ``attack_s`` and a 5-ms release."""
    t = np.arange(int(duration_s * SR)) / SR
    tone = sum(np.sin(2 * np.pi * f0_hz * k * t) / k for k in (1, 2, 3)) / 1.5
    envelope = np.minimum(1.0, (duration_s - t) / 0.005)
    if attack_s > 0:
        envelope = np.minimum(envelope, t / attack_s)
    return amplitude * envelope * tone


def _sound(parts: list[np.ndarray], *, gap_s: float = 0.3) -> tuple[np.ndarray, list[float]]:
    """``parts`` one after another, ``gap_s`` of silence before each; float32, and where each began."""
    gap = np.zeros(int(gap_s * SR))
    pieces, starts, at = [], [], 0
    for part in parts:
        pieces += [gap, part]
        starts.append((at + gap.size) / SR)
        at += gap.size + part.size
    pieces.append(gap)
    return np.concatenate(pieces).astype(np.float32), starts


def _cents(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 1200 * np.abs(np.log2(np.asarray(a, dtype=np.float64) / np.asarray(b, dtype=np.float64)))


# ------------------------------------------------------------------ building


def test_tone_bursts_separated_by_silence_become_one_grain_each_with_their_pitch_and_level():
    # given: four bursts of known pitch, loudness and length
    f0 = [55.0, 110.0, 220.0, 440.0]
    amplitude = [0.2, 0.8, 0.4, 0.6]
    audio, starts = _sound([_burst(f, duration_s=0.4, amplitude=a) for f, a in zip(f0, amplitude, strict=True)])

    # when
    library = grain_library_build(audio=audio, sr=SR)

    # then
    assert library.n_grains == 4
    assert _cents(library.f0_hz, f0).max() < 10
    assert library.voicing.min() > 0.9
    np.testing.assert_array_equal(np.argsort(library.rms), np.argsort(amplitude))
    np.testing.assert_allclose(library.source_s, starts, atol=0.001)
    np.testing.assert_allclose(library.lengths / SR, 0.4, atol=0.005)
    assert library.duration_s == pytest.approx(float(library.lengths.sum()) / SR)


def test_the_rms_is_the_grains_own_samples_rms():
    # given: a sine burst of amplitude 0.5
    t = np.arange(int(0.5 * SR)) / SR
    audio, _ = _sound([0.5 * np.sin(2 * np.pi * 300 * t)])

    # when
    library = grain_library_build(audio=audio, sr=SR)

    # then
    grain = library.grain(0).astype(np.float64)
    assert library.rms[0] == pytest.approx(np.sqrt(np.mean(grain**2)), rel=1e-5)
    assert library.rms[0] == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_the_attack_is_the_time_to_90_percent_of_the_envelope_peak():
    # given: the same tone with an instant attack and with linear ramps of 20 and 80 ms
    parts = [_burst(220.0, duration_s=0.5, amplitude=0.5, attack_s=a) for a in (0.0, 0.02, 0.08)]
    audio, _ = _sound(parts)

    # when
    library = grain_library_build(audio=audio, sr=SR)

    # then: a grain starts where it crosses -20 dB of the loudest frame (about 7 % up a ramp),
    # and the envelope reaches 90 % of its peak about 90 % up the ramp
    assert library.attack_s[0] < 0.003
    assert 0.8 * 0.02 - 0.003 <= library.attack_s[1] <= 0.9 * 0.02 + 0.003
    assert 0.8 * 0.08 - 0.003 <= library.attack_s[2] <= 0.9 * 0.08 + 0.003


def test_a_click_shorter_than_512_samples_is_dropped():
    # given: a tone burst and, apart from it, a 200-sample click as loud
    click = np.zeros(200)
    click[:] = 0.8 * np.hanning(200)
    audio, _ = _sound([_burst(330.0, duration_s=0.3, amplitude=0.8), click])

    # when
    library = grain_library_build(audio=audio, sr=SR)

    # then
    assert library.n_grains == 1
    assert _cents(library.f0_hz[0], 330.0) < 10


def test_silence_has_no_grains():
    # given
    audio = np.zeros(2 * SR, dtype=np.float32)

    # when / then
    with pytest.raises(NoGrains):
        grain_library_build(audio=audio, sr=SR)


def test_clicks_alone_have_no_grains():
    # given: three 100-sample clicks
    click = 0.9 * np.hanning(100)
    audio, _ = _sound([click, click, click])

    # when / then
    with pytest.raises(NoGrains):
        grain_library_build(audio=audio, sr=SR)


def test_a_region_longer_than_max_grain_s_is_cut_into_equal_pieces():
    # given: a 5-s tone
    audio, _ = _sound([_burst(110.0, duration_s=5.0, amplitude=0.5)])

    # when
    library = grain_library_build(audio=audio, sr=SR, params=GrainParams(max_grain_s=2.0))

    # then: three pieces of 5/3 s, one after another
    assert library.n_grains == 3
    assert np.abs(library.lengths - library.lengths[0]).max() <= 1
    assert library.lengths.max() <= 2 * SR
    np.testing.assert_allclose(np.diff(library.source_s), library.lengths[:2] / SR, atol=1e-4)


def test_noise_is_unvoiced_and_brighter_than_a_low_tone():
    # given: a noise burst and a 110 Hz sine burst
    rng = np.random.default_rng(0)
    t = np.arange(int(0.3 * SR)) / SR
    audio, _ = _sound([0.3 * rng.standard_normal(t.size), 0.5 * np.sin(2 * np.pi * 110 * t)])

    # when
    library = grain_library_build(audio=audio, sr=SR)

    # then
    assert library.n_grains == 2
    assert np.isnan(library.f0_hz[0]) and library.voicing[0] < 0.05
    assert library.centroid_hz[0] > 5000
    assert library.centroid_hz[1] == pytest.approx(110.0, rel=0.1)
    assert library.mfcc.shape == (2, 13)


def test_past_max_grains_the_loudest_are_kept_in_time_order():
    # given: five bursts, amplitudes 0.1..0.5 in a shuffled order
    amplitude = [0.3, 0.1, 0.5, 0.2, 0.4]
    audio, starts = _sound([_burst(220.0, duration_s=0.2, amplitude=a) for a in amplitude])

    # when
    library = grain_library_build(audio=audio, sr=SR, params=GrainParams(max_grains=3, top_db=30.0))

    # then: 0.3, 0.5 and 0.4, in that order
    assert library.n_grains == 3
    np.testing.assert_allclose(library.source_s, [starts[0], starts[2], starts[4]], atol=0.001)


def test_progress_rises_from_0_to_1():
    # given
    audio, _ = _sound([_burst(220.0, duration_s=0.3, amplitude=0.5)])
    seen: list[float] = []

    # when
    grain_library_build(audio=audio, sr=SR, progress=seen.append)

    # then
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)


def test_the_grains_samples_are_the_sounds_samples():
    # given
    audio, _ = _sound([_burst(f, duration_s=0.3, amplitude=0.5) for f in (100.0, 200.0)])

    # when
    library = grain_library_build(audio=audio, sr=SR)

    # then
    for i in range(library.n_grains):
        start = round(float(library.source_s[i]) * SR)
        grain = library.grain(i)
        np.testing.assert_array_equal(grain, audio[start : start + grain.size])
    assert library.audio.dtype == np.float32 and library.starts.dtype == np.int64


@pytest.mark.parametrize(
    "audio",
    [np.zeros(0, dtype=np.float32), np.zeros((2, 1000), dtype=np.float32), np.array([np.nan] * 1000, dtype=np.float32)],
)
def test_bad_audio_is_refused(audio):
    with pytest.raises(ValueError):
        grain_library_build(audio=audio, sr=SR)


# ------------------------------------------------------------------ storage


@pytest.fixture(scope="module")
def library() -> GrainLibrary:
    rng = np.random.default_rng(1)
    t = np.arange(int(0.2 * SR)) / SR
    noise = 0.3 * rng.standard_normal(t.size)
    audio, _ = _sound([_burst(f, duration_s=0.3, amplitude=0.5) for f in (82.4, 164.8, 329.6)] + [noise])
    return grain_library_build(audio=audio, sr=SR)


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _arrays(library: GrainLibrary) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(library.to_npz()), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def test_npz_round_trip_gives_the_same_library(library):
    # when
    again = GrainLibrary.from_npz(library.to_npz())

    # then
    assert again.sr == library.sr and again.n_grains == library.n_grains == 4
    for name in (
        "audio",
        "starts",
        "lengths",
        "source_s",
        "f0_hz",
        "voicing",
        "rms",
        "centroid_hz",
        "mfcc",
        "attack_s",
    ):
        np.testing.assert_array_equal(getattr(again, name), getattr(library, name))
        assert getattr(again, name).dtype == getattr(library, name).dtype
    assert np.isnan(again.f0_hz[3])


def test_the_npz_holds_no_pickle(library):
    # given
    data = library.to_npz()

    # when
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}

    # then: plain .npy members, none of them an object array
    assert all(name.endswith(".npy") for name in members)
    assert all(b"'descr': '|O'" not in body[:200] for body in members.values())


def test_a_pickled_object_array_is_refused(library):
    # given: the audio replaced by an object array (loading it would unpickle)
    arrays = _arrays(library)
    arrays["audio"] = np.array([1.0, "x", None], dtype=object)
    data = _npz(**arrays)

    # when / then
    with pytest.raises(ValueError, match="object"):
        GrainLibrary.from_npz(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("rms"), "missing"),
        (lambda a: a.update(extra=np.zeros(3)), "unknown"),
        (lambda a: a.update(audio=a["audio"].astype(np.float64)), "float64"),
        (lambda a: a.update(starts=a["starts"].astype(np.int32)), "int32"),
        (lambda a: a.update(rms=a["rms"][:2]), "entries"),
        (lambda a: a.update(mfcc=a["mfcc"][:, 0]), "dimensions"),
        (lambda a: a.update(starts=a["starts"] + a["audio"].size), "outside"),
        (lambda a: a.update(lengths=a["lengths"] * 0), "outside"),
        (lambda a: a["rms"].__setitem__(1, np.nan), "rms holds NaN"),
        (lambda a: a["audio"].__setitem__(5, np.inf), "audio holds NaN"),
        (lambda a: a["f0_hz"].__setitem__(0, -1.0), "f0_hz"),
        (lambda a: a["voicing"].__setitem__(0, 1.5), "voicing"),
        (lambda a: a.update(sr=np.array(0, dtype=np.int64)), "sample rate"),
    ],
)
def test_a_tampered_npz_is_refused(library, change, message):
    # given
    arrays = _arrays(library)
    change(arrays)

    # when / then
    with pytest.raises(ValueError, match=message):
        GrainLibrary.from_npz(_npz(**arrays))


def test_an_npz_with_no_grains_is_refused(library):
    # given
    arrays = _arrays(library)
    for name, value in arrays.items():
        if name not in ("sr", "audio"):
            arrays[name] = value[:0]

    # when / then
    with pytest.raises(ValueError, match="no grains"):
        GrainLibrary.from_npz(_npz(**arrays))


def test_a_header_declaring_a_huge_array_is_refused_before_allocating(library):
    # given: the audio member's header says 10**12 samples; its data is 16 bytes
    arrays = _arrays(library)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, value in arrays.items():
            member = io.BytesIO()
            if name == "audio":
                header = {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
                np.lib.format.write_array_header_1_0(member, header)
                member.write(b"\0" * 16)
            else:
                np.lib.format.write_array(member, value, allow_pickle=False)
            archive.writestr(f"{name}.npy", member.getvalue())

    # when / then
    with pytest.raises(ValueError, match="too large"):
        GrainLibrary.from_npz(buffer.getvalue())


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04" + b"\0" * 40])
def test_bytes_that_are_no_npz_are_refused(data):
    with pytest.raises(ValueError, match="grain library"):
        GrainLibrary.from_npz(data)


def test_the_scatter_gives_one_point_per_grain_and_none_for_unvoiced(library):
    # when
    points = library.scatter()

    # then
    assert [p["i"] for p in points] == [0, 1, 2, 3]
    assert points[0]["f0_hz"] == pytest.approx(82.4, rel=0.006)
    assert points[3]["f0_hz"] is None
    assert points[0]["rms_db"] == pytest.approx(20 * np.log10(float(library.rms[0])), abs=0.05)
    assert points[1]["start_s"] == round(float(library.source_s[1]), 3)
    assert points[2]["duration_s"] == round(float(library.lengths[2]) / SR, 3)


def test_the_scatter_spreads_max_points_over_the_library(library):
    # when
    points = library.scatter(max_points=2)

    # then: the first and the last grain
    assert [p["i"] for p in points] == [0, 3]
