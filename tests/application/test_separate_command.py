"""``manage.py separate``: stems from the command line, clear errors on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.audio import write_song

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "separate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def test_separate_writes_four_wavs_that_add_up_to_the_song(tmp_path):
    song = write_song(tmp_path / "song.flac", duration_s=5.0, sr=48000)

    result = _run(str(song), "--out", str(tmp_path / "stems"), "--engine", "offline")

    assert result.returncode == 0, result.stderr
    mix, _ = sf.read(str(song))
    total = 0
    for kind in ("vocals", "drums", "bass", "other"):
        audio, sr = sf.read(str(tmp_path / "stems" / f"{kind}.wav"))
        assert sr == 48000
        assert audio.shape == mix.shape
        total = total + audio
    assert np.max(np.abs(total - mix)) < 2e-3  # 16-bit WAVs of masks that sum to the mix


def test_separate_refuses_a_file_that_is_not_audio(tmp_path):
    bad = tmp_path / "notes.mp3"
    bad.write_text("hello")

    result = _run(str(bad), "--out", str(tmp_path / "stems"))

    assert result.returncode != 0
    assert "not audio we can read" in result.stderr
    assert not (tmp_path / "stems").exists()


def test_separate_refuses_a_missing_file(tmp_path):
    result = _run(str(tmp_path / "nope.wav"), "--out", str(tmp_path / "stems"))

    assert result.returncode != 0
    assert "no such file" in result.stderr
