"""Real band recordings for the separation benchmark: the Frets on Fire song packages.

Debian's ``fretsonfire-songs-muldjord`` (CC BY-SA 3.0) and ``fretsonfire-songs-sectoid`` (Expat)
carry each song as ``guitar.ogg`` (the isolated guitar part) and ``song.ogg`` (the rest of the
band), time-aligned: their sum is a real mix whose guitar a good separator puts in "other".
The packages are fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` into the
benchmark's cache folder (never into the repository), once.

- :data:`TUNING_SONGS`: the songs the separator was tuned on.
- :data:`HELD_OUT_SONGS`: the packages' other songs, never used while tuning.
- :func:`fetch`, :func:`song_folder`, :func:`load_song`: the packages, a song's folder, its audio.
- :func:`guitar_shares`: the share of the guitar's energy each stem carries.
- :func:`listen_proxy`: each stem's level, the figures to read beside a listen.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

PACKAGES = ("fretsonfire-songs-muldjord", "fretsonfire-songs-sectoid")
SONGS_DIR = Path("usr/share/games/fretsonfire/data/songs")

#: (package folder, song folder or the start of its name), the set the issue names.
TUNING_SONGS = (
    ("muldjord", "internal_degeneration"),
    ("muldjord", "mutilated_mime"),
    ("sectoid", "Escape"),
    ("sectoid", "Metal"),
)
HELD_OUT_SONGS = (
    ("muldjord", "chaos_god"),
    ("muldjord", "armygeddon"),
    ("sectoid", "Feelings"),
    ("sectoid", "War"),
)

SR = 44100
N_FFT = 4096


def fetch(cache: Path) -> Path:
    """The unpacked songs folder under ``cache``, downloading the two packages the first time.

    ``apt-get download`` needs no root: it writes the ``.deb`` files to its working folder (a
    private temporary one; as root, apt only warns that its ``_apt`` user cannot write there and
    downloads unsandboxed). Where the system's package lists are missing (an image that removed
    them), apt reads fresh ones into that folder instead, which needs no root either. The
    packages are unpacked beside it and moved into place whole, so an interrupted fetch leaves
    nothing that looks complete.

    Raises
    ------
    RuntimeError
        Without apt-get or dpkg-deb, or when the download fails (apt's own message included).
    """
    root = cache / "fretsonfire"
    songs = root / SONGS_DIR
    if all((songs / package).is_dir() for package in ("muldjord", "sectoid")):
        return songs
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise RuntimeError("the real-music set needs apt-get and dpkg-deb (Debian) to fetch its packages")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="fretsonfire-") as tmp:
        download = _apt_get(["download", *PACKAGES], cwd=tmp)
        if download.returncode != 0:
            # The system's lists may be gone: read our own into the temporary folder and retry.
            lists = Path(tmp) / "apt-lists"
            (lists / "partial").mkdir(parents=True)
            private = ["-o", f"Dir::State::Lists={lists}", "-o", f"Dir::Cache={Path(tmp) / 'apt-cache'}"]
            update = _apt_get([*private, "update"], cwd=tmp)
            download = update if update.returncode != 0 else _apt_get([*private, "download", *PACKAGES], cwd=tmp)
        if download.returncode != 0:
            raise RuntimeError(f"apt-get download {' '.join(PACKAGES)} failed: {download.stderr.strip()}")
        tree = Path(tmp) / "tree"
        for deb in sorted(Path(tmp).glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
        shutil.rmtree(root, ignore_errors=True)  # what an older, interrupted fetch left
        tree.rename(root)
    return songs


def _apt_get(args: list[str], *, cwd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["apt-get", "-q", *args], cwd=cwd, capture_output=True, text=True)


def song_folder(songs: Path, package: str, prefix: str) -> Path:
    """The one folder of ``package`` whose name is ``prefix`` or starts with it."""
    matches = sorted(p for p in (songs / package).iterdir() if p.is_dir() and p.name.startswith(prefix))
    if len(matches) != 1:
        raise LookupError(f"{package}/{prefix}*: {len(matches)} song folders")
    return matches[0]


def decode(path: Path, *, sr: int = SR) -> np.ndarray:
    """``path`` decoded by ffmpeg to float32 stereo at ``sr``, shape (2, n)."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "2", "-ar", str(sr), "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, dtype=np.float32).reshape(-1, 2).T.copy()


def load_song(folder: Path) -> dict[str, np.ndarray]:
    """``guitar``, ``rest`` and their sum ``mixture``, trimmed to the same length, shape (2, n)."""
    guitar, rest = decode(folder / "guitar.ogg"), decode(folder / "song.ogg")
    n = min(guitar.shape[1], rest.shape[1])
    guitar, rest = guitar[:, :n], rest[:, :n]
    return {"guitar": guitar, "rest": rest, "mixture": guitar + rest}


def _power(x: np.ndarray) -> np.ndarray:
    """Channel-summed power spectrogram on a 4096-point Hann STFT (hop 1024), shape (frames, bins)."""
    from scipy.signal import stft

    _, _, z = stft(x, nperseg=N_FFT, noverlap=N_FFT - N_FFT // 4, window="hann", boundary=None, padded=True)
    return (z.real**2 + z.imag**2).sum(axis=0).T.astype(np.float64)


def guitar_shares(*, guitar: np.ndarray, rest: np.ndarray, stems: dict[str, np.ndarray]) -> dict[str, float]:
    """The share of the guitar's energy each stem carries (they sum to 1).

    Each time-frequency bin of a stem is attributed to the guitar by the guitar's dominance over
    the rest of the band there, ``|G|² / (|G|² + |R|²)``; a stem's guitar energy is the sum of
    its bins' power weighted so, and the shares are those energies over their total.

    Parameters
    ----------
    guitar, rest : np.ndarray, shape (channels, n)
        The song's two parts, whose sum the stems were separated from.
    stems : dict of str to np.ndarray, each shape (channels, n)

    Returns
    -------
    dict of str to float
        One share in [0, 1] per stem (all 0 when every stem is silent).
    """
    g, r = _power(guitar), _power(rest)
    weight = g / (g + r + 1e-12)
    energy = {name: float((weight * _power(y)).sum()) for name, y in stems.items()}
    total = sum(energy.values()) or 1.0
    return {name: e / total for name, e in energy.items()}


def listen_proxy(stems: dict[str, np.ndarray], *, mixture: np.ndarray) -> dict[str, tuple[float, float]]:
    """Per stem: RMS in dBFS and share of the mix's energy.

    Parameters
    ----------
    stems : dict of str to np.ndarray, each shape (channels, n)
    mixture : np.ndarray, shape (channels, n)

    Returns
    -------
    dict of str to (float, float)
        ``(rms_dbfs, share)``: the RMS over all samples and channels in dB re full scale
        (floored at -200 dB for digital silence), and the stem's energy over the mixture's (the
        shares need not sum to 1: stems that cancel each other add up to more).
    """
    total = float((mixture.astype(np.float64) ** 2).sum()) or 1.0
    out = {}
    for name, y in stems.items():
        e = float((y.astype(np.float64) ** 2).sum())
        rms = np.sqrt(e / max(1, y.size))
        out[name] = (float(20 * np.log10(max(rms, 1e-10))), e / total)
    return out
