"""The lyrics pipeline's pure parts: types, windows, alignment of known words, guards, lines.

No model and no Django here: :class:`model.engines.whisper_engine.WhisperEngine` runs Whisper and
calls these steps.

- :mod:`~model.pipelines.lyrics.types`: :class:`Transcript` (lines of timed words; its
  ``to_json`` is the stored shape) and the decoder's :class:`Segment`;
- :mod:`~model.pipelines.lyrics.windows`: frame levels of the vocals, where the voice is, and
  the ≤30 s windows Whisper hears;
- :mod:`~model.pipelines.lyrics.align`: the text side of aligning the user's own lyrics
  (normalising, sequence alignment to a rough transcription, lines shared out to windows);
- :mod:`~model.pipelines.lyrics.timing`: token path to word times, onsets after pauses, clamps;
- :mod:`~model.pipelines.lyrics.guards`: hallucination guards for transcriptions;
- :mod:`~model.pipelines.lyrics.lines`: transcribed words grouped into lines.
"""

from __future__ import annotations

from model.pipelines.lyrics.align import AlignParams, normalize_word, user_words
from model.pipelines.lyrics.guards import GuardParams, apply_guards
from model.pipelines.lyrics.lines import LineParams, group_lines
from model.pipelines.lyrics.timing import TimingParams
from model.pipelines.lyrics.types import Line, Segment, Transcript, Word
from model.pipelines.lyrics.windows import Window, WindowParams

__all__ = [
    "AlignParams",
    "GuardParams",
    "Line",
    "LineParams",
    "Segment",
    "TimingParams",
    "Transcript",
    "Window",
    "WindowParams",
    "Word",
    "apply_guards",
    "group_lines",
    "normalize_word",
    "user_words",
]
