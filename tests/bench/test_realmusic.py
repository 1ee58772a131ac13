from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from bench.realmusic import SONGS_DIR, SR, fetch, guitar_shares, listen_proxy, load_song, song_folder


def _tone(freq_hz: float, *, duration_s: float = 2.0, amplitude: float = 0.5) -> np.ndarray:
    """A stereo sine of ``freq_hz``, shape (2, n), float32."""
    t = np.arange(int(duration_s * SR)) / SR
    return np.tile(amplitude * np.sin(2 * np.pi * freq_hz * t), (2, 1)).astype(np.float32)


# A guitar and a band that share no time-frequency bin: each bin's dominance is ~0 or ~1.
GUITAR = _tone(440.0)
REST = _tone(3000.0, amplitude=0.3)


def test_a_guitar_all_in_other_is_all_of_others_share():
    # given stems where "other" holds the guitar and the rest of the band is in drums
    stems = {"vocals": np.zeros_like(GUITAR), "drums": REST, "bass": np.zeros_like(GUITAR), "other": GUITAR}

    # when
    shares = guitar_shares(guitar=GUITAR, rest=REST, stems=stems)

    # then
    assert shares["other"] == pytest.approx(1.0, abs=1e-6)
    assert 1.0 - shares["other"] == pytest.approx(0.0, abs=1e-6)
    assert shares["vocals"] == 0.0 and shares["bass"] == 0.0
    assert shares["drums"] < 1e-6


def test_a_guitar_split_half_and_half_by_amplitude_gives_each_stem_half():
    # given the guitar's amplitude split equally between "other" and "vocals" (a quarter of its power each)
    half = GUITAR / 2
    stems = {"vocals": half, "drums": REST, "bass": np.zeros_like(GUITAR), "other": half}

    # when
    shares = guitar_shares(guitar=GUITAR, rest=REST, stems=stems)

    # then
    assert shares["other"] == pytest.approx(0.5, abs=1e-3)
    assert shares["vocals"] == pytest.approx(0.5, abs=1e-3)
    assert shares["drums"] < 1e-3


def test_an_unequal_split_gives_shares_by_power():
    # given 3/4 of the guitar's amplitude in "other" and 1/4 in "bass": power 9 to 1
    stems = {"bass": GUITAR / 4, "other": 3 * GUITAR / 4}

    # when
    shares = guitar_shares(guitar=GUITAR, rest=REST, stems=stems)

    # then
    assert shares["other"] == pytest.approx(0.9, abs=1e-3)
    assert shares["bass"] == pytest.approx(0.1, abs=1e-3)


def test_a_stem_holding_only_the_rest_of_the_band_carries_no_guitar():
    # given a stem that is exactly the rest of the band, louder than the guitar
    stems = {"drums": 3 * REST, "other": GUITAR}

    # when
    shares = guitar_shares(guitar=GUITAR, rest=REST, stems=stems)

    # then
    assert shares["drums"] < 1e-4
    assert shares["other"] > 1 - 1e-4


def test_shares_sum_to_one_whatever_the_stems():
    # given a noisy guitar and band, and four stems of unrelated noise and pieces of both
    rng = np.random.default_rng(0)
    guitar = rng.standard_normal((2, SR)).astype(np.float32) * 0.2
    rest = rng.standard_normal((2, SR)).astype(np.float32) * 0.1
    stems = {
        "vocals": rng.standard_normal((2, SR)).astype(np.float32) * 0.05,
        "drums": rest * 0.7,
        "bass": guitar * 0.3 + rest * 0.3,
        "other": guitar * 0.7,
    }

    # when
    shares = guitar_shares(guitar=guitar, rest=rest, stems=stems)

    # then
    assert set(shares) == set(stems)
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-9)
    assert all(0.0 <= s <= 1.0 for s in shares.values())
    assert shares["other"] > shares["bass"] > 0


def test_silent_stems_share_nothing():
    # given stems that are all digital silence
    silence = np.zeros_like(GUITAR)

    # when
    shares = guitar_shares(guitar=GUITAR, rest=REST, stems={"vocals": silence, "other": silence})

    # then
    assert shares == {"vocals": 0.0, "other": 0.0}


def test_listen_proxy_gives_rms_in_dbfs_and_share_of_the_mixs_energy():
    # given a full-scale square wave (RMS 1 = 0 dBFS) and a stem at half its amplitude, mixed
    square = np.tile(np.where(np.arange(SR) % 100 < 50, 1.0, -1.0), (2, 1)).astype(np.float32)
    stems = {"other": square, "vocals": square / 2, "bass": np.zeros_like(square)}
    mixture = square + square / 2

    # when
    levels = listen_proxy(stems, mixture=mixture)

    # then: -6.02 dB for half the amplitude; the mix has (1.5)² = 2.25 times the square's energy
    assert levels["other"][0] == pytest.approx(0.0, abs=1e-6)
    assert levels["vocals"][0] == pytest.approx(20 * np.log10(0.5), abs=1e-6)
    assert levels["bass"][0] == pytest.approx(-200.0)
    assert levels["other"][1] == pytest.approx(1 / 2.25, rel=1e-9)
    assert levels["vocals"][1] == pytest.approx(0.25 / 2.25, rel=1e-9)
    assert levels["bass"][1] == 0.0


def _write_ogg_flac(path, audio: np.ndarray) -> None:
    """``audio`` (2, n) as lossless FLAC in an Ogg file, the container the packages use."""
    wav = path.with_suffix(".wav")
    sf.write(wav, audio.T, SR, subtype="FLOAT")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "flac", "-f", "ogg", str(path)], check=True)
    wav.unlink()


def test_load_song_trims_both_parts_to_the_shorter_and_sums_them(tmp_path):
    # given a song folder whose guitar part is 1.5 s long and the band's 1.0 s
    rng = np.random.default_rng(1)
    guitar = rng.uniform(-0.5, 0.5, (2, int(1.5 * SR))).astype(np.float32)
    rest = rng.uniform(-0.3, 0.3, (2, SR)).astype(np.float32)
    _write_ogg_flac(tmp_path / "guitar.ogg", guitar)
    _write_ogg_flac(tmp_path / "song.ogg", rest)

    # when
    song = load_song(tmp_path)

    # then: both cut to the band's length, from the start, and the mixture is their sum
    assert {name: a.shape for name, a in song.items()} == {name: (2, SR) for name in ("guitar", "rest", "mixture")}
    assert all(a.dtype == np.float32 for a in song.values())
    np.testing.assert_allclose(song["guitar"], guitar[:, :SR], atol=1e-6)
    np.testing.assert_allclose(song["rest"], rest, atol=1e-6)
    np.testing.assert_array_equal(song["mixture"], song["guitar"] + song["rest"])


def _package(tmp_path, names: list[str]):
    songs = tmp_path / "songs"
    for name in names:
        (songs / "sectoid" / name).mkdir(parents=True)
    (songs / "sectoid" / "library.ini").write_text("[library]\n")
    return songs


def test_song_folder_matches_by_prefix_or_whole_name(tmp_path):
    # given a package with two songs, and a file whose name starts like a song
    songs = _package(tmp_path, ["Escape from chaosland", "Metal madness"])
    (songs / "sectoid" / "Escape notes.txt").write_text("not a song")

    # when / then
    assert song_folder(songs, "sectoid", "Escape") == songs / "sectoid" / "Escape from chaosland"
    assert song_folder(songs, "sectoid", "Metal madness") == songs / "sectoid" / "Metal madness"


@pytest.mark.parametrize("prefix", ["War", "escape", "", "Metal madness too"])
def test_song_folder_refuses_a_prefix_that_matches_none_or_several(tmp_path, prefix):
    # given a package with two songs (a prefix that is empty matches both; matching is case-sensitive)
    songs = _package(tmp_path, ["Escape from chaosland", "Metal madness"])
    before = sorted(p.name for p in (songs / "sectoid").iterdir())

    # when / then
    with pytest.raises(LookupError, match=r"sectoid/.*: [02] song folders"):
        song_folder(songs, "sectoid", prefix)
    assert sorted(p.name for p in (songs / "sectoid").iterdir()) == before


def _fake_apt(tmp_path, *, lists_missing: bool, fails: bool = False):
    """An ``apt-get`` on PATH that "downloads" two tiny packages built here (no network).

    With ``lists_missing``, a download with the system's lists fails as apt does when they are
    gone, and succeeds with a private ``Dir::State::Lists``; with ``fails``, every download fails.
    """
    debs = tmp_path / "debs"
    debs.mkdir()
    for package, song in (("muldjord", "chaos_god"), ("sectoid", "War of freedom")):
        tree = tmp_path / "build" / package
        folder = tree / "usr/share/games/fretsonfire/data/songs" / package / song
        folder.mkdir(parents=True)
        (folder / "song.ini").write_text("[song]\n")
        (tree / "DEBIAN").mkdir()
        (tree / "DEBIAN" / "control").write_text(
            f"Package: fretsonfire-songs-{package}\nVersion: 1\nArchitecture: all\n"
            "Maintainer: bench <bench@example.invalid>\nDescription: test package\n"
        )
        subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(tree), str(debs / f"{package}.deb")],
                       check=True, capture_output=True)  # fmt: skip
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    unable = 'echo "E: Unable to locate package fretsonfire-songs-muldjord" >&2; exit 100'
    system = unable if lists_missing or fails else f'cp "{debs}"/*.deb .'
    private = unable if fails else f'cp "{debs}"/*.deb .'
    script = bin_dir / "apt-get"
    script.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        "  *Dir::State::Lists*update*) exit 0 ;;\n"
        f"  *Dir::State::Lists*download*) {private} ;;\n"
        f"  *download*) {system} ;;\n"
        "  *) exit 2 ;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    return bin_dir


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb (Debian)")
@pytest.mark.parametrize("lists_missing", [False, True])
def test_fetch_unpacks_both_packages_into_the_cache_once(tmp_path, monkeypatch, lists_missing):
    # given an apt that serves the two packages (reading its own lists where the system's are gone)
    bin_dir = _fake_apt(tmp_path, lists_missing=lists_missing)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    cache = tmp_path / "cache"

    # when
    songs = fetch(cache)

    # then: the songs are in place, and nothing of the download is left beside them
    assert songs == cache / "fretsonfire" / SONGS_DIR
    assert song_folder(songs, "sectoid", "War") == songs / "sectoid" / "War of freedom"
    assert (songs / "muldjord" / "chaos_god" / "song.ini").is_file()
    assert sorted(p.name for p in cache.iterdir()) == ["fretsonfire"]
    # and a second call finds them without apt
    monkeypatch.setenv("PATH", "/nonexistent")
    assert fetch(cache) == songs


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb (Debian)")
def test_fetch_that_cannot_download_says_why_and_leaves_nothing(tmp_path, monkeypatch):
    # given an apt that cannot find the packages, with the system's lists or its own
    bin_dir = _fake_apt(tmp_path, lists_missing=True, fails=True)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    cache = tmp_path / "cache"

    # when / then
    with pytest.raises(RuntimeError, match="Unable to locate package fretsonfire-songs-muldjord"):
        fetch(cache)
    assert list(cache.iterdir()) == []
