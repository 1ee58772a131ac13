"""Media in and out through ffmpeg: decode, lossless and preview encodes, peaks, mixdown.

The mixdown applies tempo and transpose through ffmpeg's ``rubberband`` filter (librubberband).

Pure functions over arrays and local files; ffmpeg opens user files only through the
whitelisted input arguments of :func:`domain.audio.ffmpeg_input`.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

from domain.audio import ffmpeg_input
from domain.mix import (
    EXPORT_MP3_BITRATE_DEFAULT,
    EXPORT_MP3_BITRATES,
    PEAKS_PER_SECOND,
    LoopRegion,
    MixSettings,
    StemMix,
)
from domain.stem_files import StemFiles

PREVIEW_EXT = "mp3"
#: Encoder arguments per export format; an MP3 adds its constant bit rate (:func:`export_codec_args`).
EXPORT_CODECS: dict[str, list[str]] = {
    "mp3": ["-c:a", "libmp3lame"],
    "wav": ["-c:a", "pcm_s16le"],
    "flac": ["-c:a", "flac"],
}
#: The highest sample rate an MP3 holds (MPEG-1 Layer III); a 96 kHz song is exported at 48 kHz.
MP3_MAX_SR = 48000


def export_codec_args(*, fmt: str, bitrate_kbps: int | None) -> list[str]:
    """ffmpeg's encoder arguments for an export: an MP3 at ``bitrate_kbps`` (CBR), or lossless."""
    if fmt not in EXPORT_CODECS:
        raise ValueError(f"unknown export format {fmt!r}")
    if fmt != "mp3":
        return list(EXPORT_CODECS[fmt])
    bitrate = bitrate_kbps or EXPORT_MP3_BITRATE_DEFAULT
    if bitrate not in EXPORT_MP3_BITRATES:
        raise ValueError(f"an MP3 is exported at one of {EXPORT_MP3_BITRATES} kb/s, got {bitrate!r}")
    return [*EXPORT_CODECS["mp3"], "-b:a", f"{bitrate}k"]


def gettext_noop(message: str) -> str:
    """Marks ``message`` for the translation catalogue; the actor translates it when shown.

    Pipelines do not import Django, so the marker is this module's own, under the name the
    message extractor looks for.
    """
    return message


class MediaError(Exception):
    """ffmpeg could not do what was asked; ``user_message`` says why in plain words.

    ``user_message`` is one of the marked English messages below; show it through ``gettext``.
    """

    def __init__(self, technical: str, *, user_message: str) -> None:
        super().__init__(technical)
        self.user_message = user_message


def decode_audio(*, path: Path, sr: int, max_duration_s: float) -> np.ndarray:
    """Decode ``path`` once to float32 stereo at ``sr`` Hz (the file's own rate, from the probe).

    Mono is duplicated to both channels and more than two channels are downmixed.
    The decode itself stops just past ``max_duration_s``, whatever the header said.

    Returns
    -------
    np.ndarray, shape (2, n), float32

    Raises
    ------
    MediaError
        Undecodable, silent-empty, or longer than ``max_duration_s``.
    """
    cap_s = max_duration_s + 0.5
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", *ffmpeg_input(path), "-map", "0:a:0", "-t", f"{cap_s:.3f}"]
        + ["-ac", "2", "-ar", str(sr), "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise MediaError(
            result.stderr.decode(errors="replace")[-2000:], user_message=gettext_noop("The song could not be decoded.")
        )
    audio = np.frombuffer(result.stdout, dtype=np.float32).reshape(-1, 2).T
    if audio.shape[1] == 0:
        raise MediaError("decoder produced no samples", user_message=gettext_noop("The file holds no audio."))
    if audio.shape[1] / sr > max_duration_s:
        raise MediaError(
            f"decoded {audio.shape[1] / sr:.1f} s > limit {max_duration_s} s",
            user_message=gettext_noop("The song is longer than your plan allows."),
        )
    return np.ascontiguousarray(audio)


def write_flac(*, path: Path, audio: np.ndarray, sr: int) -> Path:
    """Write float audio of shape (2, n) as 24-bit FLAC."""
    sf.write(str(path), np.clip(audio.T, -1.0, 1.0), sr, format="FLAC", subtype="PCM_24")
    return path


def encode_preview(*, source: Path, out: Path) -> Path:
    """A compressed copy for the browser (MP3, VBR ~130 kb/s) of a local lossless file."""
    _ffmpeg([*ffmpeg_input(source), "-c:a", "libmp3lame", "-q:a", "5", "-compression_level", "7", str(out)])
    return out


def peaks(*, audio: np.ndarray, sr: int, peaks_per_second: int = PEAKS_PER_SECOND) -> list[list[float]]:
    """Min/max envelope of the mono mix of ``audio`` (2, n): one pair per 1/``peaks_per_second`` s."""
    mono = audio.mean(axis=0)
    hop = max(1, sr // peaks_per_second)
    n_frames = math.ceil(mono.shape[0] / hop)
    padded = np.zeros(n_frames * hop, dtype=np.float32)
    padded[: mono.shape[0]] = mono
    frames = padded.reshape(n_frames, hop)
    env = np.stack([frames.min(axis=1), frames.max(axis=1)], axis=1)
    return np.round(np.clip(env, -1, 1), 3).tolist()


def stems_write(
    *, stems: Mapping[str, np.ndarray], sr: int, out_dir: Path, peaks_per_second: int = PEAKS_PER_SECOND
) -> list[StemFiles]:
    """Write each stem as FLAC, its MP3 preview, and compute its peaks (encodes run in parallel)."""

    def one(item: tuple[str, np.ndarray]) -> StemFiles:
        kind, audio = item
        return stem_write(kind=kind, audio=audio, sr=sr, out_dir=out_dir, peaks_per_second=peaks_per_second)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, stems.items()))


def stem_write(
    *, kind: str, audio: np.ndarray, sr: int, out_dir: Path, peaks_per_second: int = PEAKS_PER_SECOND
) -> StemFiles:
    """One stem (2, n) as FLAC, its MP3 preview and its peaks, in ``out_dir``."""
    lossless = write_flac(path=out_dir / f"{kind}.flac", audio=audio, sr=sr)
    preview = encode_preview(source=lossless, out=out_dir / f"{kind}.{PREVIEW_EXT}")
    return StemFiles(
        kind=kind,
        lossless=lossless,
        preview=preview,
        peaks=peaks(audio=audio, sr=sr, peaks_per_second=peaks_per_second),
        peaks_per_second=peaks_per_second,
        duration_s=audio.shape[1] / sr,
    )


def audible_stems(mix: Mapping[str, StemMix]) -> list[str]:
    """The stems heard: with any solo, the soloed ones not muted; else all not muted."""
    return MixSettings(stems=mix).audible()


def pan_matrix(pan: float) -> tuple[float, float, float, float]:
    """Coefficients (ll, rl, lr, rr) of a stereo panner, as Web Audio's StereoPannerNode.

    out_L = ll * in_L + rl * in_R; out_R = lr * in_L + rr * in_R.
    """
    pan = min(max(pan, -1.0), 1.0)
    if pan <= 0:
        x = pan + 1.0
        gl, gr = math.cos(x * math.pi / 2), math.sin(x * math.pi / 2)
        return 1.0, gl, 0.0, gr
    x = pan
    gl, gr = math.cos(x * math.pi / 2), math.sin(x * math.pi / 2)
    return gl, 0.0, gr, 1.0


def time_pitch_filter(mix: MixSettings) -> str | None:
    """ffmpeg's ``rubberband`` filter for the mix's tempo and transpose; ``None`` when both are neutral.

    ``tempo`` T plays the song T times as fast (it lasts duration / T) with its pitch kept;
    ``pitch`` P = 2^(semitones/12) multiplies every frequency, independently of the tempo:
    what the page plays (``static/js/mixer/pitch-shift.js``).

    ``transients=mixed``: Rubber Band's default ("crisp") resets phases at every transient it
    detects, and on held notes it detects false ones: a steady 220 Hz tone slowed or sped up
    wavers by up to 2 % in pitch, an audible warble. "mixed" keeps those resets out of the
    range of musical fundamentals, so notes hold their pitch while drum hits stay sharp.
    """
    if not mix.changes_time_or_pitch:
        return None
    return f"rubberband=tempo={mix.tempo:.6f}:pitch={mix.pitch_ratio:.6f}:transients=mixed"


def mixdown(
    *,
    stems: Mapping[str, Path],
    mix: MixSettings,
    fmt: str,
    out: Path,
    sr: int,
    bitrate_kbps: int | None = None,
    loop: LoopRegion | None = None,
) -> Path:
    """Render the mix of the lossless ``stems`` with ffmpeg, exactly as the browser mixer plays it.

    Each audible stem gets its gain (dB) and its pan (Web Audio's stereo panner law); the
    stems are summed without normalisation, then the master gain is applied, then the tempo
    and transpose (:func:`time_pitch_filter`). With no audible stem the result is silence of
    the song's length (or the region's, stretched as the music would be).

    Parameters
    ----------
    loop
        Render only ``loop.start_s`` to ``loop.end_s`` (seconds of the song): the inputs are
        trimmed first, so the output lasts ``loop.duration_s / mix.tempo`` (or up to the
        song's end, when the loop ends past it).
    bitrate_kbps
        An MP3's constant bit rate, one of ``EXPORT_MP3_BITRATES`` (default 192); not used
        for lossless formats.
    """
    codec = export_codec_args(fmt=fmt, bitrate_kbps=bitrate_kbps)
    mixed = mix.for_kinds(stems)  # a stem the settings do not name plays at rest
    strips = mixed.stems
    kinds = mixed.audible()
    all_kinds = list(stems)
    inputs: list[str] = []
    for kind in all_kinds:
        inputs += ffmpeg_input(stems[kind])
    trim = f"atrim=start={loop.start_s:.6f}:end={loop.end_s:.6f},asetpts=PTS-STARTPTS," if loop is not None else ""
    chains = []
    labels = []
    for kind in kinds:
        i = all_kinds.index(kind)
        ll, rl, lr, rr = pan_matrix(strips[kind].pan)
        chains.append(
            f"[{i}:a]{trim}aformat=sample_fmts=fltp:channel_layouts=stereo,"
            f"pan=stereo|c0={ll:.6f}*c0+{rl:.6f}*c1|c1={lr:.6f}*c0+{rr:.6f}*c1,"
            f"volume={strips[kind].gain_db:.3f}dB[s{i}]"
        )
        labels.append(f"[s{i}]")
    if labels:
        summed = (
            f"{''.join(labels)}amix=inputs={len(labels)}:normalize=0:duration=longest[sum]"
            if len(labels) > 1
            else f"{labels[0]}anull[sum]"
        )
        chains.append(summed)
        master = f"[sum]volume={mix.master_gain_db:.3f}dB"
    else:  # everything muted: the export is the song's (or the region's) length of silence
        master = f"[0:a]{trim}aformat=sample_fmts=fltp:channel_layouts=stereo,volume=0"
    stretch = time_pitch_filter(mix)
    chains.append(f"{master},{stretch}[out]" if stretch else f"{master}[out]")
    out_sr = min(sr, MP3_MAX_SR) if fmt == "mp3" else sr
    _ffmpeg([*inputs, "-filter_complex", ";".join(chains), "-map", "[out]", "-ar", str(out_sr), *codec, str(out)])
    return out


def _ffmpeg(args: Sequence[str]) -> None:
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise MediaError(result.stderr[-2000:], user_message=gettext_noop("The audio could not be encoded."))
