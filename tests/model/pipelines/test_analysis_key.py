"""The song analysis' key estimate, on summed sines of known chord progressions."""

from __future__ import annotations

import numpy as np
import pytest

from model.pipelines.analysis import AnalysisParams, analyse
from model.pipelines.analysis.key import estimate_key, key_name

SR = 22050


def _progression(chords: list[tuple[int, ...]], *, bar_s: float = 2.0, bass: bool = True) -> np.ndarray:
    """Each chord (MIDI notes) held for a bar with three partials per note, the root an octave
    and a half lower as a bass note; shape (2, n), float32."""
    t = np.arange(int(bar_s * SR)) / SR
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-t / (0.8 * bar_s))
    bars = []
    for chord in chords:
        notes = list(chord) + ([chord[0] - 24] if bass else [])
        freqs = [440.0 * 2 ** ((n - 69) / 12) for n in notes]
        bars.append(envelope * sum(np.sin(2 * np.pi * f * k * t) / k for f in freqs for k in (1, 2, 3)))
    y = np.concatenate(bars * 3)
    y = 0.5 * y / np.abs(y).max()
    return np.stack([y, y]).astype(np.float32)


def test_i_iv_v_i_in_d_major_is_d_major():
    # given: D - G - A - D
    song = _progression([(62, 66, 69), (67, 71, 74), (69, 73, 76), (62, 66, 69)])

    # when
    result = analyse(mix=song, sr=SR)

    # then
    assert result.key == "D major"
    assert 0.0 < result.key_confidence <= 1.0


def test_a_minor_progression_is_a_minor():
    # given: Am - Dm - E - Am (the raised seventh of the dominant, as songs in minor have it)
    song = _progression([(57, 60, 64), (62, 65, 69), (64, 68, 71), (57, 60, 64)])

    # when
    result = analyse(mix=song, sr=SR)

    # then
    assert result.key == "A minor"
    assert 0.0 < result.key_confidence <= 1.0


def test_f_sharp_major_is_named_with_a_sharp_and_b_flat_major_with_a_flat():
    # given: I-IV-V-I in F# and in Bb
    f_sharp = _progression([(66, 70, 73), (71, 75, 78), (73, 77, 80), (66, 70, 73)])
    b_flat = _progression([(58, 62, 65), (63, 67, 70), (65, 69, 72), (58, 62, 65)])

    # when
    keys = (analyse(mix=f_sharp, sr=SR).key, analyse(mix=b_flat, sr=SR).key)

    # then
    assert keys == ("F# major", "Bb major")


def test_a_clear_key_is_more_confident_than_a_bare_fifth():
    # given: a full cadence, and an open fifth (C-G, no third: major or minor alike)
    cadence = _progression([(60, 64, 67), (65, 69, 72), (67, 71, 74), (60, 64, 67)])
    fifth = _progression([(60, 67), (60, 67), (60, 67), (60, 67)], bass=False)

    # when
    clear, bare = analyse(mix=cadence, sr=SR), analyse(mix=fifth, sr=SR)

    # then
    assert clear.key == "C major"
    assert clear.key_confidence > bare.key_confidence


def test_key_names_follow_the_usual_spelling():
    # when / then
    assert [key_name(t, "major") for t in (0, 1, 3, 6, 8, 10)] == [
        "C major",
        "Db major",
        "Eb major",
        "F# major",
        "Ab major",
        "Bb major",
    ]
    minors = [key_name(t, "minor") for t in (1, 3, 6, 8, 9)]
    assert minors == ["C# minor", "Eb minor", "F# minor", "G# minor", "A minor"]


def test_no_harmonic_energy_has_no_key():
    # given: an all-zero chroma
    chroma = np.zeros((500, 12), dtype=np.float32)

    # when
    result = estimate_key(chroma, AnalysisParams())

    # then
    assert (result.name, result.confidence) == ("", 0.0)


@pytest.mark.parametrize("profile", ["krumhansl", "temperley"])
def test_both_key_profiles_name_a_plain_cadence(profile):
    # given: I-IV-V-I in E major
    song = _progression([(64, 68, 71), (69, 73, 76), (71, 75, 78), (64, 68, 71)])

    # when
    result = analyse(mix=song, sr=SR, params=AnalysisParams(key_profile=profile))

    # then
    assert result.key == "E major"
