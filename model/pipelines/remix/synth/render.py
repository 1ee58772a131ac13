"""Steps 4 to 6 of :mod:`model.pipelines.remix.synth`: :func:`remix_stem`.

Every note's windows, read from its grain resampled sample by sample along the note's pitch
contour, scaled to the original's envelope and overlap-added in chunks of (windows, samples)
matrices (``_render``, ``_windows``); then the envelope following, the channel balance and the
dry/wet mix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from model.pipelines.remix.synth.notes import _analyse, _Analysis, _block_power, _check, _contour, _plan, _stereo
from model.pipelines.remix.synth.params import DEFAULT_SYNTH_PARAMS, RemixPlan, SynthParams

if TYPE_CHECKING:
    from model.pipelines.remix.grains import GrainLibrary
    from model.pipelines.remix.settings import RemixSettings

__all__ = ["remix_stem"]


def remix_stem(
    *,
    audio: np.ndarray,
    sr: int,
    library: GrainLibrary,
    settings: RemixSettings,
    kind: str,
    wet: float = 1.0,
    beats_s: np.ndarray | None = None,
    progress: Callable[[float], None] | None = None,
    params: SynthParams = DEFAULT_SYNTH_PARAMS,
) -> NDArray[np.float32]:
    """Re-voice one stem with the grains of ``library``, note for note (see :mod:`model.pipelines.remix.synth`).

    Parameters
    ----------
    audio : np.ndarray, shape (channels, n_samples) or (n_samples,), float
        The original stem at ``sr``, one or two channels, full scale 1.0.
    sr : int
        Its sample rate in Hz (the library's grains are resampled to it).
    library : GrainLibrary
        The style sound's grains.
    settings : RemixSettings
        ``grain_ms``, ``pitch_mapping``, ``envelope``, ``snap_to_beats``, ``onset_delta``, ``seed``.
    kind : {"drums", "bass", "other"}
        Drums have no pitch contour and no pitch mapping; their grains are chosen by timbre and
        loudness alone.
    wet : float
        Share of the re-voiced stem in the output, 0..1; the rest is the original.
    beats_s : np.ndarray, shape (n_beats,), optional
        Beat times in seconds, ascending (the song's analysis); used with ``snap_to_beats``.
    params : SynthParams
        Tuning.

    Returns
    -------
    np.ndarray, shape (2, n_samples), float32
        Stereo, as long as the input. ``wet=0`` returns the original (both channels of a mono
        stem). Deterministic for the same inputs and seed.

    Raises
    ------
    ValueError
        On a bad shape, non-finite samples, an unknown ``kind``, ``wet`` outside 0..1 or
        unsorted ``beats_s``.

    Callback
    --------
    progress(fraction)
        Called with 0..1, non-decreasing, a few dozen times at most.
    """
    report = progress or (lambda fraction: None)
    original = _stereo(audio)
    _check(sr=sr, kind=kind, wet=wet)
    if wet == 0.0:
        report(1.0)
        return original.copy()
    analysis = _analyse(original, sr=sr, kind=kind, settings=settings, params=params)
    report(0.4)
    plan = _plan(analysis, sr=sr, library=library, settings=settings, kind=kind, beats_s=beats_s, params=params)
    report(0.5)
    revoiced = _render(analysis, plan, sr=sr, library=library, settings=settings, kind=kind, params=params,
                       progress=lambda fraction: report(0.5 + 0.4 * fraction))  # fmt: skip
    if settings.envelope:
        _follow_envelope(revoiced, target=analysis.power, hop=analysis.env_hop, params=params)
    balance = _channel_balance(original, analysis.mono) * np.float32(wet)
    del analysis, plan
    report(0.95)
    out = np.empty(original.shape, dtype=np.float32)
    for channel in range(2):  # one channel at a time: no (2, n) temporaries
        np.multiply(revoiced, balance[channel], out=out[channel])
        if wet < 1.0:
            out[channel] += original[channel] * np.float32(1.0 - wet)
    report(1.0)
    return out


# ------------------------------------------------------------------ synthesis


def _render(
    analysis: _Analysis,
    plan: RemixPlan,
    *,
    sr: int,
    library: GrainLibrary,
    settings: RemixSettings,
    kind: str,
    params: SynthParams,
    progress: Callable[[float], None],
) -> NDArray[np.float32]:
    """The mono re-voicing: every note's windows, overlap-added (see :mod:`model.pipelines.remix.synth`, 4-5).

    Windows are rendered in chunks as (windows, samples) matrices. A row's read rate in its
    grain varies sample by sample with the note's pitch contour, and each window starts where
    the previous one of its note had read to half-way, so two overlapping windows read the same
    grain positions at the same rate: the cross-fades are seamless, and a note is the grain
    resampled along the contour (with a jump back, a whole number of periods, where it loops).
    """
    n = analysis.mono.shape[0]
    out = np.zeros(n, dtype=np.float32)
    if plan.n_notes == 0:
        return out
    win = max(2, 2 * (round(settings.grain_ms / 1000 * sr) // 2))
    half = win // 2
    w = _windows(analysis, plan, half=half)
    contour = _contour(analysis, plan, library=library, settings=settings, params=params)
    t = np.arange(win)
    rise = np.where(t < half, np.sin(0.5 * np.pi * t / half) ** 2, 1.0).astype(np.float32)
    fall = np.where(t >= half, np.cos(0.5 * np.pi * (t - half) / half) ** 2, 1.0).astype(np.float32)
    release = max(1.0, (params.release_s if settings.envelope else params.click_s) * sr)
    attack = max(1.0, params.click_s * sr)
    lib_sr = float(library.sr)
    audio = np.asarray(library.audio, dtype=np.float32)
    lib_starts = np.asarray(library.starts, dtype=np.int64)
    lib_lengths = np.asarray(library.lengths, dtype=np.int64)
    lib_f0 = np.asarray(library.f0_hz, dtype=np.float64)
    lib_log_f0 = np.log2(np.where(np.isfinite(lib_f0) & (lib_f0 > 0), lib_f0, 1.0))
    lib_period = np.where(np.isfinite(lib_f0) & (lib_f0 > 0), lib_sr / np.where(lib_f0 > 0, lib_f0, 1.0), 0.0)
    lib_attack = np.asarray(library.attack_s, dtype=np.float64) * lib_sr
    boost_floor = np.asarray(library.rms, dtype=np.float64) * 10 ** (-params.max_boost_db / 20) + 1e-9
    grain_fade = max(1.0, params.grain_fade_s * lib_sr)
    limit = params.max_shift_semitones / 12
    loops = kind != "drums"  # a sustained note loops over its grain's end; a drum hit rings out once

    per_chunk = max(1, params.chunk_samples // win)
    n_windows = w["out_start"].shape[0]
    audio_next = audio[1:]  # audio_next[i] is audio[i + 1], without an index + 1 temporary
    carry_note, carry_phase = -1, 0.0
    for lo in range(0, n_windows, per_chunk):
        sel = slice(lo, min(lo + per_chunk, n_windows))
        g, note, span, out_start = w["grain"][sel], w["note"][sel], w["span"][sel], w["out_start"][sel]
        rows = np.arange(g.shape[0])
        step = np.full((g.shape[0], win), lib_sr / sr)
        moving = contour.mapped[note] if contour is not None else np.zeros(g.shape[0], dtype=bool)
        if moving.any():
            m = rows if moving.all() else np.flatnonzero(moving)
            frames = np.clip((out_start[m, None] + t[None, :]) / analysis.env_hop, contour.first[note[m], None],
                             contour.last[note[m], None])  # fmt: skip
            shift = np.interp(frames, np.arange(contour.log_f0.shape[0]), contour.log_f0)
            del frames
            shift -= lib_log_f0[g[m]][:, None]
            np.exp2(np.clip(shift, -limit, limit, out=shift), out=shift)
            if m is rows:
                step *= shift
            else:
                step[m] *= shift
            del shift
        read = np.cumsum(step, axis=1)
        read -= step  # read[:, i]: grain samples read before output sample i of the window
        # Each window starts where the previous one of its note was half-way (phase, unfolded).
        advance = read[:, half]
        before = np.cumsum(advance) - advance
        new_run = np.r_[True, note[1:] != note[:-1]]
        runs, run_of = np.flatnonzero(new_run), np.cumsum(new_run) - 1
        offset = np.where(note[runs] == carry_note, carry_phase, 0.0)
        phase = before - before[runs][run_of] + offset[run_of]
        carry_note, carry_phase = int(note[-1]), float(phase[-1] + advance[-1])
        length = lib_lengths[g].astype(np.float64)
        if loops:
            extent = read[rows, np.maximum(span - 1, 0)] + step[:, 0]
            loop_end = length - 1.0 - extent  # the last start from which the window reads no further
            loop_len = np.minimum(params.loop_s * lib_sr, loop_end - lib_attack[g])
            whole = np.floor(loop_len / np.where(lib_period[g] > 0, lib_period[g], 1.0)) * lib_period[g]
            loop_len = np.where(whole > 0, whole, loop_len)
            beyond = phase > loop_end
            base = loop_end - loop_len
            folded = base + np.mod(phase - base, np.maximum(loop_len, 1.0))
            phase = np.where(beyond & (loop_len >= 1.0), folded, np.where(beyond, np.maximum(0.0, loop_end), phase))
        del step
        pos = np.add(read, phase[:, None], out=read)
        # Rows that play fewer samples than a window, or read into their grain's last samples.
        short = span < win
        ending = pos[:, -1] > length - 1.0 - grain_fade
        i0 = pos.astype(np.int64)  # positions are >= 0: truncation is floor
        frac = (pos - i0).astype(np.float32)
        partial = np.flatnonzero(short | ending)
        if partial.size:
            i0[partial] = np.minimum(i0[partial], np.maximum(lib_lengths[g[partial]] - 2, 0)[:, None])
        i0 += lib_starts[g][:, None]
        values = audio[i0]
        values *= 1.0 - frac
        values += audio_next[i0] * frac
        del i0, frac
        if partial.size:
            local = pos[partial]
            fade = np.clip((length[partial, None] - 1.0 - local) / grain_fade, 0.0, 1.0)
            fade[t[None, :] >= span[partial, None]] = 0.0
            values[partial] *= fade
            del local, fade
        del pos, read
        source = np.sqrt(np.einsum("ij,ij->i", values, values, dtype=np.float64) / span)
        gain = (w["target"][sel] / np.maximum(source, boost_floor[g])).astype(np.float32)
        first, last = w["first"][sel], w["last"][sel]
        values *= np.where(first[:, None], np.float32(1.0), rise[None, :])
        values *= np.where(last[:, None], np.float32(1.0), fall[None, :])
        values *= gain[:, None]
        ends = np.flatnonzero(last | np.r_[last[1:], False])  # the release may reach into the last but one
        abs_t = out_start[ends, None] + t[None, :]
        values[ends] *= np.clip((plan.ends[note[ends], None] - abs_t) / release, 0.0, 1.0)
        starts = np.flatnonzero(first)
        abs_t = out_start[starts, None] + t[None, :]
        values[starts] *= np.clip((abs_t - plan.starts[note[starts], None] + 1) / attack, 0.0, 1.0)
        base_t = int(out_start[0])
        index = (out_start - base_t)[:, None] + t[None, :]
        summed = np.bincount(index.ravel(), weights=values.ravel())[: n - base_t]
        out[base_t : base_t + summed.shape[0]] += summed.astype(np.float32)
        progress(sel.stop / n_windows)
    return out


def _windows(analysis: _Analysis, plan: RemixPlan, *, half: int) -> dict[str, np.ndarray]:
    """Every synthesis window of every note, in time order: its note and grain, where it starts,
    how many samples it plays (``span``), whether it opens or closes its note, and the RMS the
    original has over those samples."""
    lengths = plan.ends - plan.starts
    last_k = np.maximum(0, -(-lengths // half) - 2)  # windows 0..K cover K + 2 halves
    counts = last_k + 1
    note = np.repeat(np.arange(plan.n_notes), counts)
    k = np.arange(note.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    out_start = plan.starts[note] + k * half
    span = np.minimum(2 * half, plan.ends[note] - out_start)
    power_sums = np.concatenate(([0.0], np.cumsum(analysis.power)))
    hop, n_blocks = analysis.env_hop, analysis.power.shape[0]
    b0 = np.clip(out_start // hop, 0, n_blocks - 1)
    b1 = np.clip(-(-(out_start + span) // hop), b0 + 1, n_blocks)
    target = np.sqrt(np.maximum((power_sums[b1] - power_sums[b0]) / (b1 - b0), 0.0))
    return {"note": note, "grain": plan.grains[note], "out_start": out_start, "span": span, "target": target,
            "first": k == 0, "last": k == last_k[note]}  # fmt: skip


def _follow_envelope(revoiced: np.ndarray, *, target: np.ndarray, hop: int, params: SynthParams) -> None:
    """Scale ``revoiced`` in place so its envelope follows ``target`` (mean square per block)."""
    have = _block_power(revoiced, hop=hop)
    limit = 10 ** (params.follow_range_db / 20)
    ratio = np.sqrt(np.divide(target, have, out=np.zeros_like(have), where=have > 1e-20))
    gain = np.where(target > 0, np.clip(ratio, 1 / limit, limit), 0.0)
    gain = np.where(have > 1e-20, gain, 0.0)
    centres = (np.arange(gain.shape[0]) + 0.5) * hop
    step = 1 << 20
    for lo in range(0, revoiced.shape[0], step):
        idx = np.arange(lo, min(lo + step, revoiced.shape[0]), dtype=np.float64)
        revoiced[lo : lo + idx.shape[0]] *= np.interp(idx, centres, gain).astype(np.float32)


def _channel_balance(original: np.ndarray, mono: np.ndarray) -> NDArray[np.float32]:
    """Per channel, its RMS over the mono downmix's (1, 1 for a centred or mono stem)."""
    mono_ms = float(np.dot(mono, mono)) / mono.shape[0]
    if mono_ms <= 0.0:
        return np.ones(original.shape[0], dtype=np.float32)
    channel_ms = np.einsum("ij,ij->i", original, original, dtype=np.float64) / original.shape[1]
    return np.sqrt(channel_ms / mono_ms).astype(np.float32)
