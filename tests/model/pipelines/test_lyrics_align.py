"""The text and timing side of aligning known lyrics: matching words, windows, token times, clamps."""

from __future__ import annotations

import numpy as np

from model.pipelines.lyrics.align import (
    anchor_words,
    assign_windows,
    build_lines,
    normalize_word,
    rough_times,
    split_words,
    spread_over_voice,
    user_words,
)
from model.pipelines.lyrics.timing import clamp_times, snap_to_voice, word_times_from_alignment
from model.pipelines.lyrics.types import Line, Transcript, Word
from model.pipelines.lyrics.windows import (
    Levels,
    VoiceClock,
    Window,
    active_regions,
    frame_rms_db,
    pack_windows,
    song_levels,
)

HOP = 0.02


def _levels(spans: list[tuple[float, float]], *, duration_s: float, voice_db: float = -15.0, floor_db: float = -60.0):
    """Frame levels of a song that is ``voice_db`` inside ``spans`` and ``floor_db`` elsewhere."""
    rms = np.full(int(round(duration_s / HOP)), floor_db, dtype=np.float32)
    for a, b in spans:
        rms[int(round(a / HOP)) : int(round(b / HOP))] = voice_db
    return rms, Levels(floor_db=floor_db, voiced_db=voice_db)


# ---------------------------------------------------------------- words


def test_normalising_removes_case_punctuation_and_accents():
    assert [normalize_word(w) for w in ["Coração,", "DON'T!", "é", "São", "--", "2x"]] == [
        "coracao", "dont", "e", "sao", "", "2x",
    ]  # fmt: skip


def test_a_lone_dash_or_quote_is_joined_to_its_neighbour_and_words_keep_their_text():
    assert split_words("Oh - yeah, love \u201c me \u201d") == ["Oh -", "yeah,", "love \u201c", "me \u201d"]
    assert split_words("' quoted") == ["' quoted"]


def test_user_words_know_their_line_and_skip_empty_lines():
    words = user_words(["The night is young", "", "  and so   are we  "])

    assert [(w.text, w.line, w.norm) for w in words] == [
        ("The", 0, "the"), ("night", 0, "night"), ("is", 0, "is"), ("young", 0, "young"),
        ("and", 2, "and"), ("so", 2, "so"), ("are", 2, "are"), ("we", 2, "we"),
    ]  # fmt: skip


# ---------------------------------------------------------------- anchoring


def test_anchoring_matches_exact_runs_and_misheard_words_in_between():
    # Given the user's words and a rough hearing with one word misheard ("knight") and one missed.
    user = ["the", "night", "is", "young", "and", "so", "are", "we"]
    heard = ["the", "knight", "is", "young", "so", "are", "we"]

    anchors = anchor_words(user, heard)

    # Then every heard word anchors its user word, "and" stays unanchored.
    assert anchors == [0, 1, 2, 3, None, 4, 5, 6]


def test_anchors_keep_the_order_of_both_texts():
    # Given a rough hearing that has the user's second half before the first.
    user = ["hold", "on", "to", "the", "summer", "rain"]
    heard = ["summer", "rain", "hold", "on", "to", "the"]

    anchors = anchor_words(user, heard)

    # Then only the longer run anchors; the crossing one cannot.
    assert anchors == [2, 3, 4, 5, None, None]


def test_rough_times_interpolate_unanchored_words_by_length_between_anchors():
    # Given anchors for the first and last word, heard at 1-2 s and 5-6 s.
    heard_times = np.array([[1.0, 2.0], [5.0, 6.0]])

    rough = rough_times([0, None, None, 1], heard_times=heard_times, weights=[4, 1, 3, 4], duration_s=10.0)

    # Then the two middle words share 2-5 s in proportion 1:3.
    np.testing.assert_allclose(rough, [[1.0, 2.0], [2.0, 2.75], [2.75, 5.0], [5.0, 6.0]])


def test_rough_times_without_any_anchor_spread_over_the_whole_voice():
    rough = rough_times([None, None], heard_times=np.zeros((0, 2)), weights=[1, 1], duration_s=4.0)

    np.testing.assert_allclose(rough, [[0.0, 2.0], [2.0, 4.0]])


def test_words_spread_over_a_windows_voice_skip_its_pauses():
    # Given a window whose voice is 0-1 s and 3-4 s.
    window = Window(0.0, 4.0, ((0.0, 1.0), (3.0, 4.0)))
    clock = VoiceClock.from_windows([window])

    spread = spread_over_voice([1, 1, 1, 1], window=window, clock=clock)

    # Then four equal words take 0.5 s of voice each, none in the pause.
    np.testing.assert_allclose(spread, [[0.0, 0.5], [0.5, 1.0], [3.0, 3.5], [3.5, 4.0]])


def test_lines_go_to_the_windows_their_heard_words_are_in():
    # Given two windows of 8 s of voice each and two lines of four 5-letter words, the first
    # line heard (except its last word) in window 0, the second in window 1.
    windows = [Window(0.0, 10.0, ((1.0, 9.0),)), Window(12.0, 20.0, ((12.0, 20.0),))]
    lines = [0, 0, 0, 0, 1, 1, 1, 1]
    anchor_window = [0, 0, 0, None, 1, 1, None, 1]

    home = assign_windows(lines, anchor_window, windows, weights=[5] * 8)

    # Then each line goes whole to its window.
    assert home.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_with_nothing_heard_lines_are_shared_by_how_long_each_window_sings():
    # Given a window with 12 s of voice and one with 4 s, four equal lines and no anchor.
    windows = [Window(0.0, 13.0, ((0.5, 12.5),)), Window(20.0, 25.0, ((20.5, 24.5),))]
    lines = [0, 0, 1, 1, 2, 2, 3, 3]

    home = assign_windows(lines, [None] * 8, windows, weights=[4] * 8)

    # Then three lines go to the first window and one to the second.
    assert home.tolist() == [0, 0, 0, 0, 0, 0, 1, 1]


def test_a_stray_anchor_does_not_pull_a_line_into_the_wrong_window():
    # Given two equal windows, two equal lines, and one common word of the first line heard in
    # the second window.
    windows = [Window(0.0, 10.0, ((1.0, 9.0),)), Window(12.0, 20.0, ((12.0, 20.0),))]
    lines = [0, 0, 0, 0, 1, 1, 1, 1]
    anchor_window = [None, None, 1, None, None, None, None, None]

    home = assign_windows(lines, anchor_window, windows, weights=[5] * 8)

    assert home.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_a_line_heard_across_two_windows_is_cut_where_its_anchors_change():
    windows = [Window(0.0, 10.0, ((1.0, 9.0),)), Window(12.0, 20.0, ((12.0, 20.0),))]
    lines = [0, 0, 0, 0, 0, 0, 0, 0]
    anchor_window = [0, 0, 0, 0, 1, 1, 1, 1]

    home = assign_windows(lines, anchor_window, windows, weights=[5] * 8)

    assert home.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


# ---------------------------------------------------------------- token times


def test_token_path_becomes_word_times_at_each_words_first_token():
    # Given three words of 1, 2 and 1 tokens and a path over them plus the end token:
    # token 0 from frame 10, token 1 from 20, token 2 from 30, token 3 from 45, end from 60.
    text = np.array([0, 0, 1, 1, 2, 3, 3, 4])
    time = np.array([10, 15, 20, 25, 30, 45, 50, 60])

    starts, ends = word_times_from_alignment([1, 2, 1], text_indices=text, time_indices=time, tokens_per_second=50)

    np.testing.assert_allclose(starts, [0.2, 0.4, 0.9])
    np.testing.assert_allclose(ends, [0.4, 0.9, 1.2])


# ---------------------------------------------------------------- snapping and clamping


def test_a_start_in_the_pause_before_a_word_moves_to_its_onset():
    # Given words sung at 1.0-1.5 and 2.0-2.5 s, and a path that starts the second word where the
    # first ends (1.5 s), as Whisper's does.
    rms, levels = _levels([(1.0, 1.5), (2.0, 2.5)], duration_s=4.0)

    starts, ends = snap_to_voice(np.array([1.0, 1.5]), np.array([1.5, 2.5]), rms_db=rms, levels=levels)

    np.testing.assert_allclose(starts, [1.0, 2.0])
    np.testing.assert_allclose(ends, [1.5, 2.5])


def test_a_pause_just_after_the_path_start_is_the_one_before_the_onset():
    # Given the path starting the second word 0.3 s early, inside the first word's tail.
    rms, levels = _levels([(1.0, 1.8), (2.0, 2.5)], duration_s=4.0)

    starts, _ends = snap_to_voice(np.array([1.0, 1.5]), np.array([1.5, 2.5]), rms_db=rms, levels=levels)

    np.testing.assert_allclose(starts, [1.0, 2.0])


def test_legato_words_with_no_pause_keep_their_path_times():
    rms, levels = _levels([(1.0, 3.0)], duration_s=4.0)

    starts, ends = snap_to_voice(np.array([1.0, 1.7]), np.array([1.7, 3.0]), rms_db=rms, levels=levels)

    np.testing.assert_allclose(starts, [1.0, 1.7])
    np.testing.assert_allclose(ends, [1.7, 3.0])


def test_a_word_the_path_gave_no_frames_takes_the_voice_after_the_pause_in_the_word_before():
    # Given "the open" sung at 9.56-9.96 and 10.4-11.0 s, and a path that gave "the" 9.0-10.8 s
    # and "open" nothing at 10.8 s.
    rms, levels = _levels([(8.7, 9.3), (9.56, 9.96), (10.4, 11.0)], duration_s=13.0)

    starts, ends = snap_to_voice(np.array([8.7, 9.0, 10.8]), np.array([9.0, 10.8, 10.8]), rms_db=rms, levels=levels)

    np.testing.assert_allclose(starts, [8.7, 9.56, 10.4])
    np.testing.assert_allclose(ends[1:], [9.96, 11.0])


def test_a_word_the_path_left_in_a_long_pause_jumps_to_the_voice_after_it():
    # Given "O vento" sung at 12.4-12.8 and 13.0-13.5 s after a pause from 8.7 s, and a path
    # that put "O" right after the previous word (8.6-10.0) and "vento" over both.
    rms, levels = _levels([(8.0, 8.7), (12.4, 12.8), (13.0, 13.5)], duration_s=15.0)

    starts, ends = snap_to_voice(np.array([8.0, 8.6, 10.0]), np.array([8.6, 10.0, 13.4]), rms_db=rms, levels=levels)

    np.testing.assert_allclose(starts, [8.0, 12.4, 13.0])
    np.testing.assert_allclose(ends, [8.6, 12.8, 13.4])


def test_snapping_is_off_when_the_song_has_no_pauses_to_tell():
    rms = np.full(200, -20.0, dtype=np.float32)

    starts, ends = snap_to_voice(
        np.array([0.5]), np.array([1.0]), rms_db=rms, levels=Levels(floor_db=-21.0, voiced_db=-20.0)
    )

    np.testing.assert_allclose((starts, ends), ([0.5], [1.0]))


def test_clamped_times_are_ordered_long_enough_and_inside_the_song():
    starts, ends = clamp_times(np.array([-1.0, 0.5, 0.4, 9.99]), np.array([0.2, 0.5, 3.0, 12.0]), duration_s=10.0)

    np.testing.assert_allclose(starts, [0.0, 0.5, 0.56, 9.94])
    np.testing.assert_allclose(ends, [0.2, 0.56, 3.0, 10.0])
    assert np.all(ends[:-1] <= starts[1:]) and np.all(ends >= starts)


def test_lines_keep_the_users_text_and_span_their_words():
    lines = ["The night  is young", "", "and so are we"]
    words = user_words(lines)
    starts = np.arange(len(words), dtype=np.float64)

    built = build_lines(words, starts, starts + 0.5, lines=lines)

    assert [(line.text, line.start, line.end) for line in built] == [
        ("The night is young", 0.0, 3.5),
        ("and so are we", 4.0, 7.5),
    ]
    assert [w.word for w in built[0].words] == ["The", "night", "is", "young"]


# ---------------------------------------------------------------- windows


def test_frame_levels_of_a_sine_are_its_rms_in_dbfs():
    sr = 16_000
    t = np.arange(sr) / sr
    tone = (0.5 * np.sin(2 * np.pi * 500 * t)).astype(np.float32)

    rms = frame_rms_db(np.concatenate([np.zeros(sr // 2, np.float32), tone]), sr=sr)

    assert rms.shape == (75,)
    np.testing.assert_allclose(rms[:25], -100.0)
    np.testing.assert_allclose(rms[25:], 20 * np.log10(0.5 / np.sqrt(2)), atol=0.01)


def test_active_regions_join_the_loud_frames_and_the_detectors_regions():
    rms, levels = _levels([(1.0, 2.0), (2.1, 3.0), (6.0, 6.04)], duration_s=10.0)

    regions = active_regions(rms, levels=levels, speech=[(8.0, 9.0)])

    # The 0.1 s pause is bridged, the 40 ms click is dropped, the detector's region is added.
    np.testing.assert_allclose(regions, [(1.0, 3.0), (8.0, 9.0)])


def test_windows_are_at_most_30_s_and_cut_at_the_longest_pause():
    # Given phrases of 4 s with 1 s pauses, and one 3 s pause at 25-28 s.
    phrases = [(0.0, 4.0), (5.0, 9.0), (10.0, 14.0), (15.0, 19.0), (20.0, 25.0), (28.0, 32.0), (33.0, 37.0)]
    rms, levels = _levels(phrases, duration_s=40.0)

    windows = pack_windows(phrases, rms_db=rms, duration_s=40.0)

    assert [(round(w.start, 2), round(w.end, 2)) for w in windows] == [(0.0, 25.25), (27.75, 37.25)]
    assert all(w.duration_s <= 30.0 for w in windows)
    assert windows[1].voiced == ((28.0, 32.0), (33.0, 37.0))


def test_a_phrase_longer_than_a_window_is_cut_at_its_quietest_frame():
    rms, _levels_ = _levels([(0.0, 70.0)], duration_s=70.0)
    rms[int(24.0 / HOP)] = -50.0  # one quiet frame between 60 % and 100 % of the first window

    windows = pack_windows([(0.0, 70.0)], rms_db=rms, duration_s=70.0)

    assert all(w.duration_s <= 30.0 for w in windows)
    assert round(windows[0].voiced[-1][1], 2) == 24.0


def test_levels_leave_digital_silence_out_of_the_floor():
    rms = np.concatenate([np.full(500, -100.0), np.full(400, -45.0), np.full(100, -15.0)]).astype(np.float32)

    levels = song_levels(rms)

    assert (levels.floor_db, levels.voiced_db) == (-45.0, -15.0)


# ---------------------------------------------------------------- the stored shape


def test_transcript_json_has_exactly_the_stored_keys_rounded_to_milliseconds():
    transcript = Transcript(
        language="pt",
        language_probability=0.97,
        lines=[
            Line(
                start=1.23456, end=2.0, text="Olá mundo", words=[Word("Olá", 1.23456, 1.5), Word("mundo", 1.6, 2.0004)]
            )
        ],
    )

    assert transcript.to_json() == {
        "language": "pt",
        "lines": [
            {
                "start": 1.235,
                "end": 2.0,
                "text": "Olá mundo",
                "words": [{"word": "Olá", "start": 1.235, "end": 1.5}, {"word": "mundo", "start": 1.6, "end": 2.0}],
            }
        ],
    }
