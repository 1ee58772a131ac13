"""Rendered multitrack songs whose stems are known exactly, for separation benchmarks.

Each song is planned from a seed: a style (groove, instruments), a tempo between 80
and 150 BPM, a key and mode, a chord progression and a sung melody. The instrument
parts are written as one MIDI file per stem and rendered separately by the
``fluidsynth`` command-line synthesiser with the General MIDI soundfont of Debian's
``fluid-soundfont-gm`` package (drums on MIDI channel 10). The lead vocal is
synthesised here: a band-limited glottal pulse with vibrato, drift and jitter,
breath noise, a parallel formant filter gliding between the vowels a, e, i, o, u,
and noise consonants at syllable onsets. Because each stem is rendered on its own
and the mixture is their sum, the stems are the exact ground truth.

The package, by stage:

- :mod:`bench.multitrack.plan`: the song plan and the instrument parts as notes;
- :mod:`bench.multitrack.voice`: the sung melody and the vocal synthesiser;
- :mod:`bench.multitrack.midi`: MIDI files, fluidsynth and the stem balance;
- :mod:`bench.multitrack.render`: the entry points (one song, a cached set, a
  long mixture); ``python -m bench.multitrack`` renders a set.

System dependencies are installed by ``bench/install_bench_deps.sh``.
"""

from __future__ import annotations

from bench.multitrack.midi import SOUNDFONT, write_midi
from bench.multitrack.plan import PROGRESSIONS, SCALES, STEMS, STYLES, SongPlan, Style, plan_song
from bench.multitrack.render import GENERATOR_VERSION, load_song, render_long_song, render_set, render_song
from bench.multitrack.voice import CONSONANTS, FORMANTS, VOICE_RANGES, VOWELS, SungNote, Voice, melody, sing

__all__ = [
    "CONSONANTS",
    "FORMANTS",
    "GENERATOR_VERSION",
    "PROGRESSIONS",
    "SCALES",
    "SOUNDFONT",
    "STEMS",
    "STYLES",
    "SongPlan",
    "Style",
    "SungNote",
    "Voice",
    "VOICE_RANGES",
    "VOWELS",
    "load_song",
    "melody",
    "plan_song",
    "render_long_song",
    "render_set",
    "render_song",
    "sing",
    "write_midi",
]
