"""Media pipelines: decode, peaks, and the mixdown (tempo, key, loop, bit rate) that must match the browser mixer."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from domain.mix import LoopRegion, MixSettings, StemMix
from model.pipelines.media import (
    MediaError,
    audible_stems,
    decode_audio,
    export_codec_args,
    mixdown,
    pan_matrix,
    peaks,
    time_pitch_filter,
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


# ---------------------------------------------------------------- tempo, transpose, loop, bit rate


def _ffprobe(path: Path, entries: str) -> str:
    args = ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", entries, "-of", "csv=p=0", str(path)]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()


def _frequency_hz(x: np.ndarray, sr: int) -> float:
    """The mean frequency of a tone: rising zero crossings (placed between samples) per second."""
    i = np.where((x[:-1] < 0) & (x[1:] >= 0))[0]
    crossings = i + -x[i] / (x[i + 1] - x[i])
    return (crossings.size - 1) / ((crossings[-1] - crossings[0]) / sr)


def _wobble(x: np.ndarray, sr: int, expected_hz: float) -> float:
    """The largest relative pitch error over 100 ms windows."""
    w = int(0.1 * sr)
    return max(abs(_frequency_hz(x[i : i + w], sr) / expected_hz - 1) for i in range(0, x.size - w, w))


def test_tempo_and_transpose_stretch_the_time_and_move_the_pitch_independently(tmp_path):
    sr, seconds = 44100, 2.0
    stems = {"vocals": write_flac(path=tmp_path / "v.flac", audio=_tone(440.0, sr, int(seconds * sr)), sr=sr)}

    out = mixdown(stems=stems, mix=MixSettings(tempo=0.8, transpose=-2), fmt="wav", out=tmp_path / "slow.wav", sr=sr)

    audio, _ = sf.read(str(out))
    assert audio.shape[0] / sr == pytest.approx(seconds / 0.8, abs=0.02)
    expected_hz = 440.0 * 2 ** (-2 / 12)
    assert _frequency_hz(audio[:, 0], sr) == pytest.approx(expected_hz, rel=0.005)
    assert _wobble(audio[:, 0], sr, expected_hz) < 0.005  # held, not warbling around it


def test_a_faster_tempo_keeps_the_pitch(tmp_path):
    sr = 44100
    stems = {"bass": write_flac(path=tmp_path / "b.flac", audio=_tone(220.0, sr, 2 * sr), sr=sr)}

    out = mixdown(stems=stems, mix=MixSettings(tempo=1.25), fmt="wav", out=tmp_path / "fast.wav", sr=sr)

    audio, _ = sf.read(str(out))
    assert audio.shape[0] / sr == pytest.approx(2.0 / 1.25, abs=0.02)
    assert _frequency_hz(audio[:, 0], sr) == pytest.approx(220.0, rel=0.005)
    assert _wobble(audio[:, 0], sr, 220.0) < 0.005


def test_neutral_tempo_and_key_add_no_filter():
    assert time_pitch_filter(MixSettings()) is None
    assert time_pitch_filter(MixSettings(transpose=12)) == "rubberband=tempo=1.000000:pitch=2.000000:transients=mixed"
    assert time_pitch_filter(MixSettings(tempo=0.5)) == "rubberband=tempo=0.500000:pitch=1.000000:transients=mixed"


def test_a_loop_export_is_the_region_only(tmp_path):
    sr = 44100
    n = 3 * sr
    ramp = np.tile(np.linspace(0.0, 0.9, n, dtype=np.float32), (2, 1))  # the level says where in the song
    stems = {"other": write_flac(path=tmp_path / "o.flac", audio=ramp, sr=sr)}
    loop = LoopRegion(start_s=1.0, end_s=1.5)

    out = mixdown(stems=stems, mix=MixSettings(loop=loop), fmt="wav", out=tmp_path / "loop.wav", sr=sr, loop=loop)

    audio, _ = sf.read(str(out))
    assert audio.shape[0] == int(0.5 * sr)
    assert audio[0, 0] == pytest.approx(0.9 * 1.0 / 3.0, abs=2e-3)  # starts at 1.0 s of the song
    assert audio[-1, 0] == pytest.approx(0.9 * 1.5 / 3.0, abs=2e-3)


def test_a_slowed_loop_lasts_the_region_over_the_tempo(tmp_path):
    sr = 44100
    stems = {"vocals": write_flac(path=tmp_path / "v.flac", audio=_tone(440.0, sr, 3 * sr), sr=sr)}
    loop = LoopRegion(start_s=0.5, end_s=2.0)
    mix = MixSettings(tempo=0.75, loop=loop)

    out = mixdown(stems=stems, mix=mix, fmt="flac", out=tmp_path / "loop.flac", sr=sr, loop=loop)

    assert float(_ffprobe(out, "format=duration")) == pytest.approx(1.5 / 0.75, abs=0.02)


def test_a_muted_loop_is_the_regions_silence(tmp_path):
    sr = 44100
    stems = {"vocals": write_flac(path=tmp_path / "v.flac", audio=_tone(440.0, sr, 2 * sr), sr=sr)}
    loop = LoopRegion(start_s=0.25, end_s=1.0)
    mix = MixSettings(stems={"vocals": StemMix(mute=True)}, loop=loop)

    out = mixdown(stems=stems, mix=mix, fmt="wav", out=tmp_path / "m.wav", sr=sr, loop=loop)

    audio, _ = sf.read(str(out))
    assert audio.shape == (int(0.75 * sr), 2)
    assert np.abs(audio).max() == 0.0


@pytest.mark.parametrize("bitrate", [128, 192, 256, 320])
def test_an_mp3_export_has_the_bit_rate_asked_for(tmp_path, bitrate):
    sr = 44100
    stems = {"vocals": write_flac(path=tmp_path / "v.flac", audio=_tone(440.0, sr, sr), sr=sr)}

    out = mixdown(stems=stems, mix=MixSettings(), fmt="mp3", out=tmp_path / "m.mp3", sr=sr, bitrate_kbps=bitrate)

    assert int(_ffprobe(out, "stream=bit_rate")) == bitrate * 1000


def test_an_mp3_export_defaults_to_192_kbps_and_48_khz_at_most(tmp_path):
    sr = 96000
    stems = {"vocals": write_flac(path=tmp_path / "v.flac", audio=_tone(440.0, sr, sr), sr=sr)}

    out = mixdown(stems=stems, mix=MixSettings(), fmt="mp3", out=tmp_path / "m.mp3", sr=sr)

    assert _ffprobe(out, "stream=bit_rate,sample_rate") == "48000,192000"


def test_codec_arguments_refuse_a_bit_rate_not_offered():
    assert export_codec_args(fmt="flac", bitrate_kbps=320) == ["-c:a", "flac"]
    with pytest.raises(ValueError):
        export_codec_args(fmt="mp3", bitrate_kbps=100)
    with pytest.raises(ValueError):
        export_codec_args(fmt="ogg", bitrate_kbps=None)
