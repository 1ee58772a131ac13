"""Audio validation: what the upload is, really, found by probing it with ffmpeg.

ffmpeg is only ever allowed to read the one local file it is given: the demuxers are
whitelisted (no playlists, no concat lists, no image formats) and so are the protocols
(``file`` only), so a hostile upload cannot make it open another file or a URL.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from domain.exceptions import AudioTooLong, AudioTooShort, ErrorCode, InvalidAudio

#: Demuxers we accept, by ffmpeg's names (``mov,mp4,m4a,...`` is one demuxer).
ALLOWED_DEMUXERS = ("mp3", "wav", "flac", "mov", "mp4", "m4a", "3gp", "3g2", "mj2", "aac", "ogg", "w64")
#: ffmpeg options that must come before every ``-i`` of user data.
FFMPEG_SAFE_INPUT = (
    "-protocol_whitelist",
    "file",
    "-format_whitelist",
    ",".join(ALLOWED_DEMUXERS),
)
#: The extension we store an original under, by the demuxer that read it.
_EXTENSIONS = {"mp3": "mp3", "wav": "wav", "w64": "wav", "flac": "flac", "aac": "aac", "ogg": "ogg"}
PROBE_TIMEOUT_S = 30
#: Shorter than this is refused at upload: there is no song to separate in it, and the
#: engines' windows (Spleeter's 4096-sample STFT frames, Demucs' padded segments) need
#: audio longer than themselves. A 10 ms file used to reach the engine and crash it.
MIN_DURATION_S = 0.5
#: A header duration this much longer than the audio really present means a cut file.
_TRUNCATION_TOLERANCE = 0.05


@dataclass(frozen=True)
class AudioInfo:
    format: str
    codec: str
    duration_s: float
    sample_rate: int
    channels: int

    @property
    def extension(self) -> str:
        return _EXTENSIONS.get(self.format.split(",")[0], "m4a")


def ffmpeg_input(path: Path | str) -> list[str]:
    """The arguments that open ``path`` safely as ffmpeg's input."""
    return [*FFMPEG_SAFE_INPUT, "-i", f"file:{Path(path).resolve()}"]


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise InvalidAudio(_("The file took too long to read; it may be damaged.")) from exc


def audio_probe(*, path: Path, max_duration_s: float) -> AudioInfo:
    """Find out what ``path`` really holds, or raise.

    Checks the container and codec (not the file name), that there is an audio stream,
    and how long the audio really is: the packets are counted (a fast pass that does
    not decode), capped just past ``max_duration_s``, so a header that understates the
    length is caught without reading a huge file to its end.

    Raises
    ------
    InvalidAudio
        Not a readable audio file of a supported format, or cut short.
    AudioTooLong
        Longer than ``max_duration_s``.
    """
    if path.stat().st_size == 0:
        raise InvalidAudio(_("The file is empty."), code=ErrorCode.EMPTY_FILE)
    probe = _run(
        [
            "ffprobe",
            "-v",
            "error",
            *FFMPEG_SAFE_INPUT,
            "-show_entries",
            "format=format_name,duration:stream=codec_type,codec_name,sample_rate,channels",
            "-of",
            "json",
            f"file:{path.resolve()}",
        ]
    )
    try:
        data = json.loads(probe.stdout or "{}")
    except json.JSONDecodeError:
        data = {}
    fmt = data.get("format", {}).get("format_name", "")
    audio = [s for s in data.get("streams", []) if s.get("codec_type") == "audio"]
    if probe.returncode != 0 or not fmt or not audio:
        raise InvalidAudio(
            _("This file is not audio we can read. Upload an MP3, WAV, FLAC, M4A/AAC or OGG file."),
            code=ErrorCode.UNSUPPORTED_FORMAT,
        )
    stream = audio[0]
    sample_rate = int(stream.get("sample_rate") or 0)
    channels = int(stream.get("channels") or 0)
    if sample_rate <= 0 or channels <= 0:
        raise InvalidAudio(_("The audio in this file is damaged and cannot be read."))

    measured = _measured_duration(path=path, cap_s=max_duration_s + 1.0)
    if measured is None or measured <= 0:
        raise InvalidAudio(_("The audio in this file is damaged and cannot be read."))
    if measured < MIN_DURATION_S:
        raise AudioTooShort(
            _("The song is too short: it must last at least %(limit)g s.") % {"limit": MIN_DURATION_S},
            extra={"min_duration_s": MIN_DURATION_S, "measured_s": round(measured, 3)},
        )
    if measured > max_duration_s:
        raise AudioTooLong(
            _("The song is longer than %(limit)d minutes.") % {"limit": round(max_duration_s / 60)},
            extra={"max_duration_s": max_duration_s},
        )
    header = float(data["format"].get("duration") or 0.0)
    if header > 1.0 and measured < header * (1 - _TRUNCATION_TOLERANCE):
        raise InvalidAudio(
            _("The file seems cut short: it holds %(real).0f s of the %(header).0f s it announces.")
            % {"real": measured, "header": header},
            extra={"measured_s": round(measured, 2), "header_s": round(header, 2)},
        )
    return AudioInfo(
        format=fmt,
        codec=str(stream.get("codec_name", "")),
        duration_s=measured,
        sample_rate=sample_rate,
        channels=channels,
    )


def _measured_duration(*, path: Path, cap_s: float) -> float | None:
    """Seconds of audio packets in the first audio stream, read up to ``cap_s``."""
    result = _run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-nostats",
            *ffmpeg_input(path),
            "-map",
            "0:a:0",
            "-t",
            f"{cap_s:.3f}",
            "-c",
            "copy",
            "-f",
            "null",
            "-progress",
            "pipe:1",
            "-",
        ]
    )
    if result.returncode != 0:
        return None
    times = [line.split("=", 1)[1] for line in result.stdout.splitlines() if line.startswith("out_time_us=")]
    try:
        return int(times[-1]) / 1e6 if times else None
    except ValueError:
        return None
