from __future__ import annotations

import math

import numpy as np
import pytest

from bench.karaoke.metrics import (
    edit_distance,
    every_nth,
    f_measure,
    match_words,
    median_error,
    normalise_words,
    share_within,
    start_errors,
    tempo_error,
    word_error_rate,
)


def test_f_measure_counts_hits_inside_the_window_and_nothing_else():
    # given ten beats every 0.5 s; eight estimated 50 ms late, one 80 ms late, one missed,
    # and two estimates where no beat is
    reference = np.arange(10) * 0.5
    estimate = np.concatenate([reference[:8] + 0.05, [reference[8] + 0.08], [0.25, 1.75]])

    # when
    score = f_measure(reference=reference, estimate=estimate)

    # then 8 matches: precision 8/11, recall 8/10, F = 16/21
    assert score == pytest.approx(16 / 21, abs=1e-12)


def test_f_measure_matches_one_to_one():
    # given one beat and two estimates inside its window
    # when / then only one of them is a hit: P = 1/2, R = 1
    assert f_measure(reference=[1.0], estimate=[0.98, 1.02]) == pytest.approx(2 / 3, abs=1e-12)


def test_f_measure_finds_the_maximum_matching_where_windows_overlap():
    # given two beats 100 ms apart whose 70 ms windows overlap, and an estimate near each
    # when / then both are hits, whatever order the estimates come in
    assert f_measure(reference=[1.0, 1.1], estimate=[1.06, 1.035]) == 1.0


def test_f_measure_window_is_inclusive():
    assert f_measure(reference=[1.0], estimate=[1.25], window_s=0.25) == 1.0
    assert f_measure(reference=[1.0], estimate=[1.2500001], window_s=0.25) == 0.0


def test_f_measure_of_an_empty_list_is_zero():
    assert f_measure(reference=[], estimate=[1.0]) == 0.0
    assert f_measure(reference=[1.0], estimate=[]) == 0.0


def test_tempo_error_is_relative_and_does_not_forgive_octave_errors():
    assert tempo_error(reference_bpm=120.0, estimate_bpm=125.0) == pytest.approx(5 / 120, abs=1e-15)
    assert tempo_error(reference_bpm=120.0, estimate_bpm=60.0) == 0.5
    assert tempo_error(reference_bpm=120.0, estimate_bpm=240.0) == 1.0


def test_every_nth_takes_every_nth_beat_from_the_first():
    beats = np.arange(10, dtype=float)
    np.testing.assert_array_equal(every_nth(beats, n=4), [0.0, 4.0, 8.0])
    np.testing.assert_array_equal(every_nth(beats[::-1], n=3), [0.0, 3.0, 6.0, 9.0])


def test_start_errors_mark_a_missed_word_as_infinite():
    # given three true starts; the second word was not found
    errors = start_errors(reference=[1.0, 2.0, 3.0], estimate=[1.25, None, 2.5])

    # then
    np.testing.assert_array_equal(errors, [0.25, np.inf, 0.5])
    assert share_within(errors, tolerance_s=0.3) == pytest.approx(1 / 3, abs=1e-15)
    assert median_error(errors) == 0.5


def test_median_error_is_infinite_when_half_the_words_are_missed():
    errors = start_errors(reference=[1.0, 2.0, 3.0, 4.0], estimate=[1.125, 2.25, None, None])
    assert median_error(errors) == math.inf
    assert share_within(errors) == 0.5


def test_start_errors_need_one_estimate_per_word():
    with pytest.raises(ValueError):
        start_errors(reference=[1.0, 2.0], estimate=[1.0])


def test_normalise_words_folds_case_and_punctuation_and_keeps_accents():
    assert normalise_words("Don't stop, Coração!") == ["dont", "stop", "coração"]
    assert normalise_words("Hello—world…  VOCÊ") == ["hello", "world", "você"]
    assert normalise_words("you’re") == ["youre"]
    assert normalise_words(" ,.! ") == []


def test_edit_distance_is_levenshtein():
    # kitten -> sitting: two substitutions and an insertion
    assert edit_distance(list("kitten"), list("sitting")) == 3
    assert edit_distance([], ["a", "b"]) == 2
    assert edit_distance(["a", "b"], []) == 2


def test_word_error_rate_counts_substitutions_deletions_and_insertions():
    reference = "the cat sat on the mat".split()
    assert word_error_rate(reference, "the cat sat on mat".split()) == pytest.approx(1 / 6, abs=1e-15)
    assert word_error_rate(reference, "a cat sat on the mat today".split()) == pytest.approx(2 / 6, abs=1e-15)
    assert word_error_rate(reference, reference) == 0.0
    assert word_error_rate([], []) == 0.0
    assert word_error_rate([], ["noise"]) == math.inf


def test_match_words_pairs_only_equal_words_in_order():
    # given a hypothesis with a substitution ("walked") and an insertion ("a")
    reference = "i walk along the river".split()
    hypothesis = "i walked along a the river".split()

    # when
    matched = match_words(reference, hypothesis)

    # then the substituted word is a miss, and the rest find their own indices
    assert matched == [0, None, 2, 4, 5]


def test_match_words_with_nothing_heard_misses_every_word():
    assert match_words(["a", "b"], []) == [None, None]
