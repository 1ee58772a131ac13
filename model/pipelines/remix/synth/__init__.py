"""Granular re-synthesis of one stem with a grain library: :func:`remix_stem`.

The stem is analysed once, its notes are given grains, and every grain is rendered in one
vectorised overlap-add:

1. **Analysis** (once per stem, on the mono downmix). One STFT at
   :attr:`SynthParams.analysis_sr` (taken a block of frames at a time) gives the log-mel
   spectral flux that librosa's ``onset_detect`` reads (``delta`` =
   :attr:`RemixSettings.onset_delta`, onsets at least :attr:`SynthParams.min_onset_gap_s`
   apart, backtracked to the energy minimum before each attack), and each frame's spectral
   centroid and MFCCs. The RMS envelope is taken at the stem's own rate every
   :attr:`SynthParams.envelope_hop_s`. The pitch contour of a ``bass`` or ``other`` stem comes
   from one call of :func:`~model.pipelines.remix.pitch.pitch_track` over the whole stem, at
   the envelope's hop; drums have none.
2. **Notes.** A note runs from an onset to the next one, or to where the envelope has fallen
   :attr:`SynthParams.note_floor_db` below the note's peak, whichever comes first. With
   ``snap_to_beats`` and a beat grid, a note's start moves to the nearest quarter-beat when it
   lies within :attr:`SynthParams.snap_window_s` of it.
3. **Grain choice.** Each note is described by its pitch (median log-f0 of its voiced frames),
   its loudness (log of its peak RMS), its brightness (log centroid) and a few MFCCs (1 to
   :attr:`SynthParams.n_timbre_mfcc`) over its first grain length. The timbre and loudness
   columns are z-scored within the stem's notes and, separately, within the library's grains,
   so the stem's loudest, brightest notes meet the library's loudest, brightest grains (a
   kick meets the kit's lowest hit whatever the two recordings' levels); pitch is absolute,
   :attr:`SynthParams.pitch_weight` units an octave. A voiced note is matched among the
   library's voiced grains on pitch and timbre, an unvoiced note or a drum hit among all
   grains on timbre alone. A ``scipy.spatial.cKDTree`` gives each note its
   :attr:`SynthParams.neighbours` nearest grains; :func:`grains_choose` then takes one of those
   within :attr:`SynthParams.tie_margin` of the nearest, drawn by a NumPy generator seeded with
   ``settings.seed``, and never the grain the previous note played.
4. **Synthesis.** A note is played by windows of ``grain_ms`` (``W`` samples) every ``W / 2``:
   the first starts flat on the note's onset (the grain's attack is never faded in), the
   following ones cross-fade with Hann halves (which sum to one), and the last holds to the
   note's end, where a release ramp closes it. With pitch mapping, the grain is resampled
   sample by sample to the stem's pitch contour (the contour's 10 ms frames interpolated; inside
   a note, unvoiced frames bridged and the tracker's octave slips moved into the note's octave),
   and each window starts where the previous one of its note had read to half-way, so two
   overlapping windows read the same grain samples at the same rate: a sustained, gliding or
   vibrato note follows the original's pitch frame by frame with seamless cross-fades. A
   ``bass`` or ``other`` grain shorter than its note loops over its last
   :attr:`SynthParams.loop_s` (after its attack; a whole number of its periods, so the jump
   back keeps the phase); a drum grain rings out once. Transposition is resampling (linear
   interpolation), which moves the formants with the pitch; they stay sensible because the
   pitch distance dominates the grain choice (a semitone costs as much as a standard deviation
   of loudness), so the ratio is usually a few semitones, and it is clamped to
   :attr:`SynthParams.max_shift_semitones`. Every grain fades out over its last
   :attr:`SynthParams.grain_fade_s` (a grain is cut where its sound falls under the library's
   split level, not at silence).
5. **Loudness.** Each window is scaled so that its RMS over its span equals the original's
   envelope there (the boost over a quiet stretch of grain is capped at
   :attr:`SynthParams.max_boost_db`). With ``settings.envelope`` on, the re-voiced stem then
   follows the original's envelope frame by frame (attack and decay: a gain of
   ``E_original / E_revoiced`` per envelope frame, within :attr:`SynthParams.follow_range_db`,
   interpolated between frames) and each note ends with a :attr:`SynthParams.release_s` ramp;
   off, each grain keeps its own attack and decay within its window and a note ends with a
   :attr:`SynthParams.click_s` ramp.
6. **Stereo, dry/wet.** The mono re-voicing is spread over the channels with the original's
   channel balance (each channel's RMS over the mono downmix's), and mixed with the original:
   ``wet * revoiced + (1 - wet) * original``.

The same inputs and seed give the same samples, bit for bit (no threads reduce in an order
that varies). Memory: a few copies of the stem (float32) and render chunks of
:attr:`SynthParams.chunk_samples` samples.

Where each part lives:

- :mod:`~model.pipelines.remix.synth.params`: :data:`STEM_KINDS`, :class:`SynthParams` (every
  tuning knob, with its unit), :data:`DEFAULT_SYNTH_PARAMS` and :class:`RemixPlan`;
- :mod:`~model.pipelines.remix.synth.notes`: steps 1 and 2, the analysis (onsets, RMS envelope,
  pitch contour) and the notes, and :func:`remix_plan`, the notes with the grain each plays;
- :mod:`~model.pipelines.remix.synth.choice`: step 3, the descriptors, the KD-tree and
  :func:`grains_choose`;
- :mod:`~model.pipelines.remix.synth.render`: steps 4 to 6, :func:`remix_stem`: the grains
  resampled along the contour, the windows and their envelopes, the overlap-add, the envelope
  following, stereo and dry/wet.
"""

from __future__ import annotations

from model.pipelines.remix.synth.choice import grains_choose
from model.pipelines.remix.synth.notes import remix_plan
from model.pipelines.remix.synth.params import DEFAULT_SYNTH_PARAMS, STEM_KINDS, RemixPlan, SynthParams
from model.pipelines.remix.synth.render import remix_stem

__all__ = [
    "DEFAULT_SYNTH_PARAMS",
    "STEM_KINDS",
    "RemixPlan",
    "SynthParams",
    "grains_choose",
    "remix_plan",
    "remix_stem",
]
