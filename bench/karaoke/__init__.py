"""The karaoke test set: rendered songs with a spoken-sung lead whose every word time is known.

Each song is planned from a seed (:mod:`bench.karaoke.plan`): a meter (4/4, 3/4 or 6/8), a tempo
between 70 and 170 BPM, a key, a band and a language (English or Brazilian Portuguese). The band
is written as MIDI parts that follow the meter (:mod:`bench.karaoke.parts`) and rendered by
fluidsynth with the General MIDI soundfont, as :mod:`bench.multitrack` renders its stems; the lead
vocal is the lyrics (:mod:`bench.karaoke.lyrics`, written for this benchmark) spoken line by line
by espeak-ng at a pitch per line, each line on a downbeat, each word's span read from the
synthesiser's word events and trimmed by energy (:mod:`bench.karaoke.voice`). So every beat,
downbeat and word start and end is known exactly (:class:`~bench.karaoke.songs.SongTruth`), and
every stem is on disk.

- :mod:`bench.karaoke.songs`: render one song, the cached set (``var/bench/karaoke/``), the 3-min
  song of the speed rows, and read them back;
- :mod:`bench.karaoke.metrics`: beat and downbeat F-measure, tempo error, word start errors, WER.

System dependencies (fluidsynth, the GM soundfont, espeak-ng) come from
``bench/install_bench_deps.sh``.
"""

from __future__ import annotations

from bench.karaoke.lyrics import LYRICS
from bench.karaoke.plan import METERS, SET_LAYOUT, KaraokePlan, Meter, long_plan, plan_song, set_plans
from bench.karaoke.songs import (
    GENERATOR_VERSION,
    SongTruth,
    TrueLine,
    TrueWord,
    load_song,
    load_truth,
    render_long,
    render_set,
    render_song,
    sing_plan,
)

__all__ = [
    "GENERATOR_VERSION",
    "LYRICS",
    "METERS",
    "SET_LAYOUT",
    "KaraokePlan",
    "Meter",
    "SongTruth",
    "TrueLine",
    "TrueWord",
    "load_song",
    "load_truth",
    "long_plan",
    "plan_song",
    "render_long",
    "render_set",
    "render_song",
    "set_plans",
    "sing_plan",
]
