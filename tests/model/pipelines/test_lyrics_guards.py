"""Hallucination guards and line grouping, on hand-made decoder segments (no model)."""

from __future__ import annotations

import numpy as np

from model.pipelines.lyrics.guards import (
    apply_guards,
    compression_ratio,
    cut_ngram_loops,
    drop_repeated_lines,
    drop_unconfident,
    drop_words_over_silence,
)
from model.pipelines.lyrics.lines import LineParams, group_lines, split_phrases
from model.pipelines.lyrics.types import Segment, Word
from model.pipelines.lyrics.windows import Levels

HOP = 0.02


def _segment(text: str, start: float, *, word_s: float = 0.4, gap_s: float = 0.1, **scores) -> Segment:
    """A segment whose words last ``word_s`` each, ``gap_s`` apart, from ``start``."""
    words = []
    t = start
    for w in text.split():
        words.append(Word(w, t, t + word_s))
        t += word_s + gap_s
    return Segment(start=start, end=words[-1].end, text=text, words=words, **scores)


def _levels(spans: list[tuple[float, float]], *, duration_s: float) -> tuple[np.ndarray, Levels]:
    rms = np.full(int(round(duration_s / HOP)), -70.0, dtype=np.float32)
    for a, b in spans:
        rms[int(round(a / HOP)) : int(round(b / HOP))] = -15.0
    return rms, Levels(floor_db=-70.0, voiced_db=-15.0)


# ---------------------------------------------------------------- loops inside a segment


def test_a_phrase_looping_inside_a_segment_keeps_four_copies():
    # Given a decoder stuck on "I'm sorry" after a real phrase.
    segment = _segment("I know " + "I'm sorry " * 10, 0.0)

    cut = cut_ngram_loops(segment)

    assert cut.text == "I know I'm sorry I'm sorry I'm sorry I'm sorry"
    assert [w.word for w in cut.words] == cut.text.split()
    assert cut.end == cut.words[-1].end
    assert cut.compression_ratio == compression_ratio(cut.text)


def test_a_sung_na_na_na_is_not_a_loop():
    segment = _segment("na na na na na na na na hey", 0.0)

    assert cut_ngram_loops(segment) is segment


def test_a_looping_line_of_six_words_is_cut_too():
    segment = _segment("I will never let you down " * 7, 0.0)

    assert cut_ngram_loops(segment).text == " ".join(["I will never let you down"] * 4)


def test_a_single_word_repeated_past_eight_is_cut_to_eight():
    segment = _segment("go " * 12, 0.0)

    assert cut_ngram_loops(segment).text == " ".join(["go"] * 8)


# ---------------------------------------------------------------- the decoder's confidence


def test_unconfident_segments_are_dropped_by_whispers_rules():
    # Given a confident segment, a likely-silent unconfident one, a guessed one and a loop.
    good = _segment("hold on to the night", 0.0, avg_logprob=-0.3, no_speech_prob=0.1)
    silent = _segment("thank you for watching", 5.0, avg_logprob=-1.2, no_speech_prob=0.8)
    guessed = _segment("and then the cat", 10.0, avg_logprob=-1.8, no_speech_prob=0.1)
    looping = _segment("la la", 15.0, avg_logprob=-0.2, compression_ratio=3.1)
    confident_quiet = _segment("softly now", 20.0, avg_logprob=-0.4, no_speech_prob=0.9)

    kept = drop_unconfident([good, silent, guessed, looping, confident_quiet])

    assert kept == [good, confident_quiet]


# ---------------------------------------------------------------- repeated lines


def test_a_line_repeated_by_a_stuck_decoder_keeps_only_its_plausible_copies():
    # Given a line decoded six times in a row: twice as sung, then four copies that are either
    # unconfident or crammed into 0.3 s.
    first = _segment("thank you so much", 0.0, avg_logprob=-0.3)
    second = _segment("thank you so much", 3.0, avg_logprob=-0.3)
    stuck = [
        _segment("Thank you, so much.", 6.0, avg_logprob=-0.9),
        _segment("thank you so much", 9.0, word_s=0.05, gap_s=0.02, avg_logprob=-0.2),
        _segment("thank you so much", 10.0, avg_logprob=-1.1),
        _segment("thank you so much", 13.0, word_s=0.05, gap_s=0.02, avg_logprob=-0.3),
    ]

    kept = drop_repeated_lines([first, second, *stuck])

    assert kept == [first, second]


def test_a_chorus_sung_four_times_is_kept():
    chorus = [_segment("let it go let it go", 5.0 * i, avg_logprob=-0.2) for i in range(4)]

    assert drop_repeated_lines(chorus) == chorus


# ---------------------------------------------------------------- text over silence


def test_words_over_silence_are_dropped_and_a_mostly_silent_segment_goes_whole():
    # Given voice only at 0-2 s, a segment with one word past the voice, and a segment
    # written entirely over the silence after it.
    rms, levels = _levels([(0.0, 2.0)], duration_s=10.0)
    sung = _segment("we were dancing", 0.2, word_s=0.4, gap_s=0.1)  # last word 1.2-1.6
    overhang = _segment("in the rain tonight", 0.2, word_s=0.4, gap_s=0.2)  # last word 2.0-2.4
    hallucinated = _segment("subtitles by the community", 5.0)

    kept = drop_words_over_silence([sung, overhang, hallucinated], rms_db=rms, levels=levels)

    assert [s.text for s in kept] == ["we were dancing", "in the rain"]
    assert kept[0] is sung
    assert kept[1].end == overhang.words[2].end
    assert [w.word for w in kept[1].words] == ["in", "the", "rain"]


def test_a_song_with_no_voice_at_all_keeps_no_text():
    rms = np.full(500, -100.0, dtype=np.float32)

    kept = drop_words_over_silence(
        [_segment("hello", 1.0)], rms_db=rms, levels=Levels(floor_db=-100.0, voiced_db=-100.0)
    )

    assert kept == []


def test_the_guards_together_keep_the_sung_lines_in_order():
    # Given a song sung at 0-4 s and 6-10 s, decoded with a repeated hallucinated line over the
    # silence after it and a loop inside the second line.
    rms, levels = _levels([(0.0, 4.0), (6.0, 10.0)], duration_s=30.0)
    segments = [
        _segment("every river finds its way", 0.0, avg_logprob=-0.3),
        _segment("back to the ocean " + "ocean " * 12, 6.0, word_s=0.2, gap_s=0.05, avg_logprob=-0.4),
        *[_segment("please subscribe", 12.0 + 3 * i, avg_logprob=-0.5) for i in range(5)],
    ]

    kept = apply_guards(segments, rms_db=rms, levels=levels)

    assert [s.text for s in kept] == [
        "every river finds its way",
        "back to the ocean ocean ocean ocean ocean ocean ocean ocean",
    ]


# ---------------------------------------------------------------- lines


def test_lines_break_at_pauses_sentence_marks_and_commas():
    words = [
        Word("When", 0.0, 0.3), Word("the", 0.35, 0.5), Word("morning", 0.55, 1.0), Word("comes,", 1.05, 1.4),
        Word("I", 1.5, 1.6), Word("wake.", 1.7, 2.0), Word("Then", 2.1, 2.3), Word("we", 3.5, 3.7),
        Word("go", 3.8, 4.0),
    ]  # fmt: skip

    lines = group_lines([Segment(0.0, 4.0, "", words=words)])

    assert [line.text for line in lines] == ["When the morning comes,", "I wake.", "Then", "we go"]
    assert [(line.start, line.end) for line in lines] == [(0.0, 1.4), (1.5, 2.0), (2.1, 2.3), (3.5, 4.0)]


def test_an_overlong_line_is_split_at_its_longest_pause():
    words = [Word(f"w{i}", 0.3 * i, 0.3 * i + 0.25) for i in range(12)]
    words[7:] = [Word(w.word, w.start + 0.4, w.end + 0.4) for w in words[7:]]  # a 0.45 s pause before w7

    lines = group_lines([Segment(0.0, 4.0, "", words=words)], params=LineParams(max_words=9))

    assert [len(line.words) for line in lines] == [7, 5]


def test_every_segment_starts_a_line():
    first = _segment("hold on", 0.0)
    second = _segment("to the night", 1.0)

    assert [line.text for line in group_lines([first, second])] == ["hold on", "to the night"]


def test_phrases_are_cut_at_pauses_and_sentence_ends_only():
    words = [Word("a,", 0.0, 0.2), Word("b.", 0.3, 0.5), Word("c", 0.6, 0.8), Word("d", 1.5, 1.7)]

    assert [[w.word for w in p] for p in split_phrases(words)] == [["a,", "b."], ["c"], ["d"]]
