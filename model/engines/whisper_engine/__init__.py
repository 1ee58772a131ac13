"""The lyrics engine: faster-whisper transcription with word times, and forced alignment of known lyrics.

Both paths share one plan, built around Whisper's cost on a CPU (the encoder is most of it):

1. **Windows.** The vocals' frame level and Silero's voice-activity detector (shipped with
   faster-whisper, tuned so sung phrases are kept) find where the voice is; it is packed into
   windows of at most 30 s cut in pauses (:mod:`model.pipelines.lyrics.windows`). Each window is
   encoded **once**; that encoder output serves the language detection, the decoding and the word
   alignment.
2. **Transcription** (:meth:`WhisperEngine.transcribe`): each window is decoded on its own
   (beam search, ``condition_on_previous_text`` off so one bad window cannot poison the next,
   a limited temperature fallback), its words aligned with Whisper's cross-attention
   (CTranslate2's ``Whisper.align``, as faster-whisper's ``word_timestamps`` does), checked by the
   hallucination guards (:mod:`model.pipelines.lyrics.guards`) and grouped into lines.
3. **Alignment of the user's lyrics** (:meth:`WhisperEngine.align`): a fast greedy decode of each
   window gives a rough transcription; the user's words are aligned to it as text
   (:mod:`model.pipelines.lyrics.align`) to learn which window each is sung in; then each window's
   own user words are forced onto its encoder output with ``Whisper.align``, and the token path
   becomes word times, snapped out of pauses and clamped. The words are the user's; only the
   times come from the audio.

faster_whisper and ctranslate2 are imported inside functions only (the web process imports this
package's neighbours); the model loads once per process and (model folder, device, precision).
"""

from model.engines.whisper_engine.engine import WhisperEngine, whisper_engine_get
from model.engines.whisper_engine.params import DEFAULT_WHISPER_PARAMS, SR, WhisperParams

__all__ = ["DEFAULT_WHISPER_PARAMS", "SR", "WhisperEngine", "WhisperParams", "whisper_engine_get"]
