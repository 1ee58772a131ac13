"""What the transcription hears: the vocals with the rest of the song 10 dB under them."""

from __future__ import annotations

import numpy as np
import pytest

from model.pipelines.lyrics.hearing import band_under


def test_the_rest_of_the_song_is_ten_db_under_the_vocals():
    # given a voice and a band as separate signals, and their mix
    t = np.arange(16000) / 16000
    voice = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    band = (0.5 * np.sin(2 * np.pi * 55 * t)).astype(np.float32)

    # when the transcription's audio is made from the separated voice and the mix
    heard = band_under(voice, voice + band)

    # then the voice is whole and the band is there at -10 dB
    assert heard.dtype == np.float32 and heard.shape == voice.shape
    np.testing.assert_allclose(heard - voice, 10 ** (-10 / 20) * band, atol=1e-6)


def test_the_shorter_length_is_kept_and_bad_input_is_refused():
    assert band_under(np.ones(10, np.float32), np.ones(12, np.float32)).shape == (10,)
    with pytest.raises(ValueError, match="mono"):
        band_under(np.ones((2, 10), np.float32), np.ones(10, np.float32))
    with pytest.raises(ValueError, match="turned down"):
        band_under(np.ones(10, np.float32), np.ones(10, np.float32), db=3.0)
