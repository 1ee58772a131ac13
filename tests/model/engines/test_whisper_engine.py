"""The lyrics engine on the bundled Whisper base, run for real on speech placed at known times.

Every word is spoken by espeak-ng on its own and placed where the test says (``tests.speech``),
under a quiet tone bed, so each word's start is known to the sample. The model is joined once per
session into a temporary cache and loaded once per module.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from model.engines import whisper_models
from model.engines.base import EngineError
from model.engines.whisper_engine import SR, WhisperEngine
from model.engines.whisper_models import BASE_MODEL_SHA256, BASE_MODEL_SIZE, whisper_model_dir
from model.pipelines.lyrics.align import normalize_word
from tests.speech import spoken_line, spoken_word

EN_LINES = ["the quick brown fox jumps", "over the lazy dog"]
PT_LINES = ["eu não sei o que fazer", "da minha vida"]


@pytest.fixture(scope="session")
def whisper_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("whisper-base")
    whisper_model_dir(cache_dir=folder)
    return folder


@pytest.fixture(scope="module")
def engine(whisper_cache: Path) -> WhisperEngine:
    return WhisperEngine(cache_dir=whisper_cache, device="cpu")


def _bed(n: int, *, seed: int = 0) -> np.ndarray:
    """A quiet tone bed with a little noise (about -40 dBFS), as bleed under a vocal stem."""
    t = np.arange(n) / SR
    rng = np.random.default_rng(seed)
    bed = 0.006 * np.sin(2 * np.pi * 110 * t) + 0.004 * np.sin(2 * np.pi * 221 * t)
    return (bed + 0.002 * rng.standard_normal(n)).astype(np.float32)


def _sung(lines: list[str], *, language: str, start_s: float = 1.0, line_gap_s: float = 1.0):
    """The lines' words placed one by one, a pause between lines: (audio, true word starts)."""
    pieces, starts, at = [], [], start_s
    for line in lines:
        audio, placed = spoken_line(line.split(), language=language, sr=SR, start_s=at)
        pieces.append(audio)
        starts += [w.start for w in placed]
        at = placed[-1].end + line_gap_s
    n = max(len(p) for p in pieces) + SR // 2
    mix = np.zeros(n, dtype=np.float32)
    for p in pieces:
        mix[: len(p)] += p
    return 0.7 * mix / np.abs(mix).max() + _bed(n), np.array(starts)


def _wer(reference: str, hypothesis: str) -> float:
    ref = [w for w in map(normalize_word, reference.split()) if w]
    hyp = [w for w in map(normalize_word, hypothesis.split()) if w]
    d = np.arange(len(hyp) + 1)
    for i in range(1, len(ref) + 1):
        prev, d[0] = d.copy(), i
        for j in range(1, len(hyp) + 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (ref[i - 1] != hyp[j - 1]))
    return d[-1] / len(ref)


# ---------------------------------------------------------------- the model files


def test_the_bundled_model_is_joined_once_and_matches_its_pinned_checksum(whisper_cache):
    model = whisper_cache / "model.bin"
    before = model.stat().st_mtime_ns

    folder = whisper_model_dir(cache_dir=whisper_cache)

    assert folder == whisper_cache.resolve()
    assert model.stat().st_size == BASE_MODEL_SIZE
    assert model.stat().st_mtime_ns == before  # verified by its stamp, not joined again
    assert hashlib.sha256(model.read_bytes()).hexdigest() == BASE_MODEL_SHA256
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json", "model.bin", "model.bin.verified", "tokenizer.json", "vocabulary.txt",
    ]  # fmt: skip


def test_a_changed_joined_model_is_checked_and_joined_again(tmp_path):
    whisper_model_dir(cache_dir=tmp_path)
    model = tmp_path / "model.bin"
    with model.open("r+b") as f:  # one damaged byte, same size
        f.seek(1000)
        f.write(b"\x00" if f.read(1) != b"\x00" else b"\x01")

    whisper_model_dir(cache_dir=tmp_path)

    assert hashlib.sha256(model.read_bytes()).hexdigest() == BASE_MODEL_SHA256
    assert not list(tmp_path.glob(".model.bin.*"))  # no temporary file left


def test_model_parts_of_the_wrong_size_are_refused_and_nothing_is_written(tmp_path, monkeypatch):
    (package, name, size), second = whisper_models.BASE_PARTS
    monkeypatch.setattr(whisper_models, "BASE_PARTS", ((package, name, size + 1), second))

    with pytest.raises(EngineError, match="expected"):
        whisper_model_dir(cache_dir=tmp_path / "cache")

    assert not (tmp_path / "cache" / "model.bin").exists()


def test_a_model_folder_without_its_files_is_refused(tmp_path):
    (tmp_path / "large-v3").mkdir()
    (tmp_path / "large-v3" / "config.json").write_text("{}")

    with pytest.raises(EngineError, match="lacks model.bin, tokenizer.json"):
        WhisperEngine(model_dir=tmp_path / "large-v3", cache_dir=tmp_path / "cache").detect_language(
            np.zeros(SR, dtype=np.float32)
        )

    assert not (tmp_path / "cache").exists()


def test_a_model_folder_setting_takes_the_place_of_the_bundled_model(whisper_cache, tmp_path):
    engine = WhisperEngine(model_dir=whisper_cache, cache_dir=tmp_path / "unused")

    assert engine.model_name == f"whisper:{whisper_cache.name}"
    assert WhisperEngine(cache_dir=tmp_path / "unused").model_name == "whisper-base"


# ---------------------------------------------------------------- transcription


def test_a_clear_english_sentence_is_transcribed_with_word_times(engine):
    audio, starts = _sung(EN_LINES, language="en")
    fractions: list[float] = []

    transcript = engine.transcribe(audio, language=None, progress=fractions.append)

    heard = " ".join(line.text for line in transcript.lines)
    assert transcript.language == "en"
    # At most 2 of the 9 words wrong: a lone "the" from espeak-ng is often heard as "a".
    assert _wer(" ".join(EN_LINES), heard) <= 0.25, heard
    words = transcript.words
    assert all(a.end <= b.start for a, b in zip(words, words[1:], strict=False))
    assert all(0.0 <= w.start <= w.end <= len(audio) / SR for w in words)
    # The first word is heard where it was spoken.
    assert abs(words[0].start - starts[0]) < 0.3
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_brazilian_portuguese_is_detected_as_pt(engine):
    sentence = "Eu não sei o que fazer da minha vida. Você sabe que eu te amo, meu amor."
    speech = spoken_word(sentence, language="pt", sr=SR, speed_wpm=100)
    audio = np.concatenate([np.zeros(SR // 2, np.float32), speech, np.zeros(SR // 2, np.float32)])
    audio = 0.7 * audio / np.abs(audio).max() + _bed(audio.size)

    language, probability = engine.detect_language(audio)

    assert language == "pt"
    assert probability > 0.5


def test_detection_answers_only_among_the_languages_offered(engine):
    # given clear English speech
    audio, _starts = _sung(EN_LINES, language="en")

    # when the languages offered leave English out, then the answer is one of them
    language, probability = engine.detect_language(audio, languages=("pt", "es"))
    assert language in {"pt", "es"} and 0.5 <= probability <= 1.0
    # and with English offered, English wins
    assert engine.detect_language(audio, languages=("en", "pt", "es"))[0] == "en"
    # and a list Whisper knows none of is refused
    with pytest.raises(ValueError, match="none of the languages"):
        engine.detect_language(audio, languages=("xx",))


def test_silence_transcribes_to_no_lines(engine):
    transcript = engine.transcribe(_bed(5 * SR) * 0.01, language="en")

    assert transcript.to_json() == {"language": "en", "lines": []}


# ---------------------------------------------------------------- alignment of known lyrics


@pytest.mark.parametrize(("language", "lines"), [("en", EN_LINES), ("pt", PT_LINES)])
def test_known_lyrics_are_aligned_to_where_each_word_was_spoken(engine, language, lines):
    audio, starts = _sung(lines, language=language)
    fractions: list[float] = []

    transcript = engine.align(audio, lines=lines, language=language, progress=fractions.append)

    assert [line.text for line in transcript.lines] == lines
    assert [w.word for w in transcript.words] == " ".join(lines).split()
    errors = np.abs(np.array([w.start for w in transcript.words]) - starts)
    assert errors.max() < 0.3, errors.round(2).tolist()
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_aligned_lyrics_keep_the_users_spelling_and_punctuation(engine):
    audio, _starts = _sung(EN_LINES, language="en")
    lines = ["The Quick brown fox - jumps!", "", "  over the LAZY dog  "]

    transcript = engine.align(audio, lines=lines, language="en")

    assert transcript.to_json()["lines"][0]["text"] == "The Quick brown fox - jumps!"
    assert [line.text for line in transcript.lines] == ["The Quick brown fox - jumps!", "over the LAZY dog"]
    assert [w.word for w in transcript.lines[0].words] == ["The", "Quick", "brown", "fox -", "jumps!"]


def test_lyrics_aligned_to_a_song_with_no_voice_are_spread_over_it_in_order(engine):
    audio = np.zeros(4 * SR, dtype=np.float32)

    transcript = engine.align(audio, lines=["one two", "three four"], language="en")

    starts = [w.start for w in transcript.words]
    assert starts == [0.0, 1.0, 2.0, 3.0]
    assert transcript.lines[-1].end == 4.0


def test_an_unknown_language_or_unusable_audio_is_refused(engine):
    with pytest.raises(ValueError, match="Unknown Whisper language"):
        engine.align(np.zeros(SR, dtype=np.float32), lines=["hello"], language="xx")
    with pytest.raises(ValueError, match="mono"):
        engine.transcribe(np.zeros((2, SR), dtype=np.float32), language="en")
    with pytest.raises(ValueError, match="NaN"):
        engine.detect_language(np.full(SR, np.nan, dtype=np.float32))
