"""Media pipelines: decode, peaks, and the mixdown that must match the browser mixer."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from domain.mix import MixSettings, StemMix
from model.pipelines.media import (
    MediaError,
    audible_stems,
    decode_audio,
    mixdown,
    pan_matrix,
    peaks,
    write_flac,
)
from tests.audio import write_song


def test_decode_duplicates_mono_to_stereo(tmp_path):
    path = write_song(tmp_path / "mono.flac", duration_s=1.0, channels=1, sr=22050)

    audio = decode_audio(path=path, sr=22050, max_duration_s=60)

    assert audio.shape == (2, 22050)
    assert audio.dtype == np.float32
    np.testing.assert_array_equal(audio[0], audio[1])


def test_decode_downmixes_more_than_two_channels(tmp_path):
    sr = 48000
    t = np.arange(sr) / sr
    six = np.stack([0.1 * np.sin(2 * np.pi * 200 * (i + 1) * t) for i in range(6)], axis=1)
    path = tmp_path / "surround.wav"
    sf.write(str(path), six, sr)

    audio = decode_audio(path=path, sr=sr, max_duration_s=60)

    assert audio.shape == (2, sr)
    assert np.abs(audio).max() > 0.05


def test_decode_caps_the_decode_itself(tmp_path):
    path = write_song(tmp_path / "long.wav", duration_s=6.0)

    with pytest.raises(MediaError) as excinfo:
        decode_audio(path=path, sr=44100, max_duration_s=3.0)

    assert "longer than" in excinfo.value.user_message


def test_peaks_are_min_max_pairs_per_hop():
    sr = 1000
    audio = np.zeros((2, 2 * sr), dtype=np.float32)
    audio[:, 500] = 0.5
    audio[:, 1500] = -0.25

    env = peaks(audio=audio, sr=sr, peaks_per_second=10)

    assert len(env) == 20
    assert env[5] == [0.0, 0.5]
    assert env[15] == [-0.25, 0.0]
    assert all(pair == [0.0, 0.0] for i, pair in enumerate(env) if i not in (5, 15))


def test_solo_wins_over_the_rest_and_mute_wins_over_solo():
    mix = {
        "vocals": StemMix(solo=True),
        "drums": StemMix(solo=True, mute=True),
        "bass": StemMix(),
        "other": StemMix(mute=True),
    }

    assert audible_stems(mix) == ["vocals"]
    assert audible_stems({"a": StemMix(), "b": StemMix(mute=True)}) == ["a"]


@pytest.mark.parametrize(
    ("pan", "expected"),
    [
        (0.0, (1.0, 0.0, 0.0, 1.0)),
        (-1.0, (1.0, 1.0, 0.0, 0.0)),
        (1.0, (0.0, 0.0, 1.0, 1.0)),
    ],
)
def test_pan_law_matches_web_audio_stereo_panner(pan, expected):
    np.testing.assert_allclose(pan_matrix(pan), expected, atol=1e-12)


def _tone(freq: float, sr: int, n: int) -> np.ndarray:
    t = np.arange(n) / sr
    return np.tile((0.25 * np.sin(2 * np.pi * freq * t)).astype(np.float32), (2, 1))


def _band_level(x: np.ndarray, sr: int, freq: float) -> float:
    spectrum = np.abs(np.fft.rfft(x)) / x.size
    return float(spectrum[int(round(freq * x.size / sr))])


def test_mixdown_applies_gain_mute_solo_and_pan(tmp_path):
    sr, n = 44100, 44100
    stems = {
        kind: write_flac(path=tmp_path / f"{kind}.flac", audio=_tone(freq, sr, n), sr=sr)
        for kind, freq in (("vocals", 440.0), ("drums", 1000.0), ("bass", 110.0))
    }
    mix = MixSettings(
        stems={
            "vocals": StemMix(gain_db=-6.0, pan=-1.0),  # hard left, half amplitude
            "drums": StemMix(mute=True),
            # bass not named: it plays at rest (0 dB, centre)
        }
    )

    out = mixdown(stems=stems, mix=mix, fmt="wav", out=tmp_path / "mix.wav", sr=sr)

    audio, out_sr = sf.read(str(out))
    assert out_sr == sr
    assert audio.shape == (n, 2)
    left, right = audio[:, 0], audio[:, 1]
    # Hard left: the left channel carries both channels of the vocal, at -6 dB.
    assert _band_level(left, sr, 440) == pytest.approx(0.125 * 0.5012 * 2, rel=0.02)
    assert _band_level(right, sr, 440) < 1e-3
    assert _band_level(left, sr, 1000) < 1e-3 and _band_level(right, sr, 1000) < 1e-3  # muted
    assert _band_level(left, sr, 110) == pytest.approx(0.125, rel=0.02)
    assert _band_level(right, sr, 110) == pytest.approx(0.125, rel=0.02)


@pytest.mark.parametrize("fmt", ["mp3", "wav", "flac"])
def test_mixdown_formats_decode(tmp_path, fmt):
    sr = 44100
    stems = {"vocals": write_flac(path=tmp_path / "v.flac", audio=_tone(440, sr, sr), sr=sr)}

    out = mixdown(stems=stems, mix=MixSettings(master_gain_db=-3), fmt=fmt, out=tmp_path / f"m.{fmt}", sr=sr)

    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=format_name,duration", "-of",
                            "csv=p=0", str(out)], capture_output=True, text=True, check=True)  # fmt: skip
    name, duration = probe.stdout.strip().split(",")
    assert name == fmt
    assert float(duration) == pytest.approx(1.0, abs=0.06)


def test_mixdown_with_everything_muted_is_silence(tmp_path):
    sr = 44100
    stems = {"vocals": write_flac(path=tmp_path / "v.flac", audio=_tone(440, sr, sr), sr=sr)}

    mix = MixSettings(stems={"vocals": StemMix(mute=True)})
    out = mixdown(stems=stems, mix=mix, fmt="wav", out=tmp_path / "m.wav", sr=sr)

    audio, _ = sf.read(str(out))
    assert audio.shape == (sr, 2)
    assert np.abs(audio).max() == 0.0


def test_ffmpeg_refuses_to_follow_a_playlist(tmp_path: Path):
    secret = write_song(tmp_path / "secret.wav", duration_s=1.0)
    playlist = tmp_path / "list.mp3"
    playlist.write_text(f"ffconcat version 1.0\nfile '{secret}'\n")

    with pytest.raises(MediaError):
        decode_audio(path=playlist, sr=44100, max_duration_s=60)


@pytest.mark.parametrize(
    "strip", [{"gain_db": -60.5}, {"gain_db": 6.5}, {"pan": -1.01}, {"pan": 1.5}], ids=["quiet", "loud", "l", "r"]
)
def test_a_strip_outside_the_fader_ranges_is_refused(strip):
    with pytest.raises(ValueError):
        StemMix(**strip)


def test_mix_settings_round_trip_through_json():
    mix = MixSettings(master_gain_db=-1.5, stems={"vocals": StemMix(gain_db=-6.0, mute=True, pan=0.25)})

    again = MixSettings.from_json(mix.to_json())

    assert again == mix
    assert again.for_kinds(["vocals", "bass"]).stems == {"vocals": mix.stems["vocals"], "bass": StemMix()}
