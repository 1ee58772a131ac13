"""The bundled offline engine: Spleeter vocals + DSP split, any rate, chunked."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from model.engines import offline  # noqa: E402
from model.engines.base import EngineError  # noqa: E402
from tests.model.signals import (  # noqa: E402
    SR,
    chord,
    click_train,
    drum_bass_bed,
    projection,
    sine,
    voice,
)


def _song(*, sr: int, seconds: float) -> np.ndarray:
    n = int(seconds * sr)
    x = voice(sr=sr, n=n) + drum_bass_bed(sr=sr, n=n) + 0.5 * chord(sr=sr, n=n)
    return np.stack([x, 0.9 * x]).astype(np.float32)


@pytest.fixture(scope="module")
def engine() -> offline.OfflineEngine:
    return offline.OfflineEngine()


def test_the_shortest_song_an_upload_accepts_separates(engine) -> None:
    from domain.audio import MIN_DURATION_S

    audio = _song(sr=44100, seconds=MIN_DURATION_S)

    stems = engine.separate(audio, sr=44100)

    assert all(y.shape == audio.shape for y in stems.values())
    np.testing.assert_allclose(sum(stems.values()), audio, atol=1e-4)


@pytest.mark.parametrize("sr", [22050, 48000])
def test_any_rate_in_same_rate_and_length_out(engine, sr: int) -> None:
    audio = _song(sr=sr, seconds=6.3)
    ticks: list[float] = []

    stems = engine.separate(audio, sr=sr, progress=ticks.append)

    assert list(stems) == ["vocals", "drums", "bass", "other"]
    for y in stems.values():
        assert y.shape == audio.shape
        assert y.dtype == np.float32
    np.testing.assert_allclose(sum(stems.values()), audio, atol=1e-4)
    assert ticks[-1] == 1.0


def test_stems_are_what_they_say_at_48k(engine) -> None:
    sr = 48000
    n = 8 * sr
    sung, pad = voice(sr=sr, n=n), 0.5 * chord(sr=sr, n=n)
    clicks, low = click_train(sr=sr, n=n), sine(55.0, sr=sr, n=n, amp=0.2)
    audio = np.stack([sung + pad + clicks + low] * 2).astype(np.float32)

    stems = engine.separate(audio, sr=sr)

    shares = {k: projection(stems[k][0], sung) for k in stems}
    assert shares["vocals"] > 0.8
    assert projection(stems["drums"][0], clicks) > 0.8
    assert projection(stems["bass"][0], low) > 0.9
    assert projection(stems["other"][0], pad) > 0.4


def test_mono_input_is_duplicated(engine) -> None:
    mono = _song(sr=SR, seconds=4.0)[0]

    flat = engine.separate(mono, sr=SR)
    row = engine.separate(mono[None, :], sr=SR)

    for name, y in flat.items():
        assert y.shape == (2, mono.size)
        np.testing.assert_allclose(y[0], y[1], atol=1e-5)
        np.testing.assert_allclose(y, row[name], atol=1e-6)
    np.testing.assert_allclose(sum(flat.values())[0], mono, atol=1e-4)


def test_long_input_is_chunked_with_continuous_joins(engine, monkeypatch) -> None:
    # One Spleeter segment per chunk (~11.9 s) so 30 s of audio takes 3 chunks.
    monkeypatch.setattr(offline, "CHUNK_SEGMENTS", 1)
    sr = 22050
    audio = _song(sr=sr, seconds=30.0)
    ticks: list[float] = []

    stems = engine.separate(audio, sr=sr, progress=ticks.append)

    assert len(ticks) == 3
    assert all(y.shape == audio.shape for y in stems.values())
    np.testing.assert_allclose(sum(stems.values()), audio, atol=1e-4)
    step = offline.chunk_samples(sr=sr) - int(offline.OVERLAP_S * sr)
    for name in ("vocals", "drums", "bass"):
        y = stems[name][0]
        jumps = np.abs(np.diff(y))
        typical = np.percentile(jumps, 99.9)
        for join in (step, 2 * step):
            # around each join the signal moves no more than elsewhere
            near = jumps[join - sr : join + sr]
            assert near.max() <= 2 * typical, name


def test_bad_input_is_a_value_error(engine) -> None:
    with pytest.raises(ValueError):
        engine.separate(np.zeros((3, 1000), np.float32), sr=SR)
    with pytest.raises(ValueError):
        engine.separate(np.zeros((2, 1000), np.float32), sr=0)
    with pytest.raises(ValueError):
        engine.separate(np.zeros((2, 0), np.float32), sr=SR)


def test_missing_checkpoints_are_an_engine_error(monkeypatch) -> None:
    from model.pipelines import spleeter_net

    def missing() -> None:
        raise FileNotFoundError("no checkpoints")

    monkeypatch.setattr(offline, "_net", None)
    monkeypatch.setattr(spleeter_net, "checkpoint_paths", missing)

    with pytest.raises(EngineError, match="Spleeter"):
        offline.OfflineEngine().separate(np.zeros((2, 4410), np.float32), sr=SR)


def test_mask_network_whose_checksum_does_not_match_is_an_engine_error(monkeypatch) -> None:
    from model.pipelines.separation import net

    monkeypatch.setattr(net, "_default", None)
    monkeypatch.setattr(net, "WEIGHTS_SHA256", "0" * 64)

    with pytest.raises(EngineError, match="mask network"):
        offline.OfflineEngine().separate(np.zeros((2, 4410), np.float32), sr=SR)
    assert net._default is None


def test_legacy_engine_splits_with_the_dsp_alone(monkeypatch) -> None:
    # Given a song, and the split each engine asks for recorded.
    from model.pipelines import separation

    audio = _song(sr=SR, seconds=4.0)
    methods: list[str] = []
    split = separation.split_accompaniment

    def recording(accompaniment, **kwargs):
        methods.append(kwargs.get("method", "net"))
        return split(accompaniment, **kwargs)

    monkeypatch.setattr(separation, "split_accompaniment", recording)

    legacy = offline.OfflineEngine(legacy=True).separate(audio, sr=SR)
    new = offline.OfflineEngine().separate(audio, sr=SR)

    # Then the legacy engine used the DSP method, the default one the network,
    # and both keep the exact sum.
    assert methods == ["dsp", "net"]
    for stems in (legacy, new):
        np.testing.assert_allclose(sum(stems.values()), audio, atol=1e-4)
    assert not np.allclose(legacy["drums"], new["drums"])
