"""Demucs engine (with the tiny untrained demucs_unittest model) and the registry."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model import engines
from model.engines import ENGINE_NAMES, get_engine, resolve_engine_name
from model.engines.demucs_engine import DemucsEngine, demucs_weights_available


@pytest.fixture(autouse=True)
def no_network(monkeypatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def empty_caches(monkeypatch, tmp_path: Path) -> Path:
    """Point the torch hub and Hugging Face caches at empty folders."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    engines._get_engine.cache_clear()
    return tmp_path


def test_demucs_unittest_separates_end_to_end_on_cpu() -> None:
    pytest.importorskip("demucs")
    engine = DemucsEngine("demucs_unittest", model_dir=None, device="cpu")
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal((2, 3 * 22050 + 7))).astype(np.float32)
    ticks: list[float] = []

    stems = engine.separate(audio, sr=22050, progress=ticks.append)

    assert engine.stems == ("vocals", "drums", "bass", "other")
    assert list(stems) == list(engine.stems)
    for y in stems.values():
        assert y.shape == audio.shape
        assert y.dtype == np.float32
        assert np.all(np.isfinite(y))
    assert ticks[-1] == 1.0 and ticks == sorted(ticks)


def test_demucs_weights_lookup_without_weights(empty_caches: Path) -> None:
    assert demucs_weights_available("demucs_unittest", model_dir=None) is True
    for name in ("htdemucs", "htdemucs_ft", "htdemucs_6s"):
        assert demucs_weights_available(name, model_dir=str(empty_caches)) is False
    assert demucs_weights_available("nope", model_dir=None) is False


def test_demucs_weights_found_in_model_dir(empty_caches: Path) -> None:
    model_dir = empty_caches / "models"
    model_dir.mkdir()
    # htdemucs is one model, 955717e8 (demucs/remote/htdemucs.yaml, files.txt).
    (model_dir / "955717e8-8726e21a.th").write_bytes(b"")

    assert demucs_weights_available("htdemucs", model_dir=str(model_dir)) is True
    assert demucs_weights_available("htdemucs_ft", model_dir=str(model_dir)) is False


def test_demucs_weights_found_in_torch_hub_cache(empty_caches: Path) -> None:
    hub = empty_caches / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / "5c90dfd2-34c22ccb.th").write_bytes(b"")

    assert demucs_weights_available("htdemucs_6s", model_dir=None) is True
    assert demucs_weights_available("htdemucs", model_dir=None) is False


def test_missing_weights_raise_engine_error_not_download(empty_caches: Path) -> None:
    engine = DemucsEngine("htdemucs", model_dir=str(empty_caches))

    with pytest.raises(engines.EngineError, match="not found"):
        engine.separate(np.zeros((2, 4410), np.float32), sr=44100)


def test_every_registered_name_builds_its_engine_and_others_are_refused(empty_caches: Path) -> None:
    for name in ENGINE_NAMES:  # building one loads nothing yet: weights load on first use
        engine = get_engine(name)
        assert engine.name == resolve_engine_name(name, model_dir=None)
    with pytest.raises(ValueError, match="Unknown separation engine 'nope'"):
        get_engine("nope")
    with pytest.raises(ValueError, match="device"):
        get_engine("htdemucs", device="tpu")


def test_auto_is_offline_without_weights_and_htdemucs_with(empty_caches: Path) -> None:
    assert resolve_engine_name("auto", model_dir=None) == "offline"
    engine = get_engine("auto")
    assert engine.name == "offline"
    assert get_engine("auto") is engine is get_engine("offline")

    model_dir = empty_caches / "models"
    model_dir.mkdir()
    (model_dir / "955717e8-8726e21a.th").write_bytes(b"")
    auto = get_engine("auto", model_dir=str(model_dir))
    assert auto.name == "htdemucs"
    assert auto.stems == ("vocals", "drums", "bass", "other")
    assert get_engine("htdemucs_6s", model_dir=str(model_dir)).stems[-2:] == ("guitar", "piano")


def test_importing_the_registry_does_not_import_torch() -> None:
    code = (
        "import sys, model.engines as e; e.get_engine('offline'); "
        "print(sorted(m for m in ('torch', 'demucs', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "[]"


def test_demucs_separates_the_shortest_song_an_upload_accepts() -> None:
    from domain.audio import MIN_DURATION_S

    engine = DemucsEngine("demucs_unittest", model_dir=None, device="cpu")
    audio = (0.1 * np.random.default_rng(1).standard_normal((2, int(MIN_DURATION_S * 44100)))).astype(np.float32)

    stems = engine.separate(audio, sr=44100)

    assert all(y.shape == audio.shape and np.all(np.isfinite(y)) for y in stems.values())
