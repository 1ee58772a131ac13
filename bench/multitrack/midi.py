"""The instrument stems: MIDI files rendered by fluidsynth, and the stem balance.

:func:`write_midi` writes one part as a Standard MIDI File; :func:`render_raw`
renders the four stems of a plan (each instrument part by the ``fluidsynth``
command-line synthesiser with the FluidR3 General MIDI soundfont, the vocal by
:func:`~bench.multitrack.voice.sing` while those run); :func:`balance` sets their
levels and the mixture's peak.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from bench.multitrack.plan import (
    BASS_CHANNEL,
    COMP_CHANNEL,
    DRUM_CHANNEL,
    PAD_CHANNEL,
    STEMS,
    STYLE_BY_NAME,
    Note,
    SongPlan,
    bass_part,
    drum_part,
    other_part,
    swung,
)
from bench.multitrack.voice import melody, sing, voice_for

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

_TICKS_PER_BEAT = 480
# Stem RMS levels in dBFS before the shared peak normalisation: a pop balance with
# the lead vocal on top.
_LEVELS_DB = {"vocals": -17.0, "drums": -19.5, "bass": -20.5, "other": -21.0}
MIX_PEAK = 10 ** (-1.0 / 20)  # -1 dBFS


def write_midi(
    path: Path,
    *,
    notes: Sequence[Note],
    bpm: float,
    programs: dict[int, int],
    pans: dict[int, int],
    swing: float = 0.5,
    end_beat: float,
    seed: int = 0,
) -> None:
    """Write a type-0 Standard MIDI File.

    Parameters
    ----------
    path : Path
        Output ``.mid`` file.
    notes : sequence of (start_beat, length_beats, pitch, velocity, channel)
        The notes. Start times are swung with ``swing`` and humanised by up to
        +-4 ms (drums) or +-8 ms (others), drawn from ``seed``.
    bpm : float
        Tempo in beats per minute.
    programs, pans : dict of channel -> value
        General MIDI program (on channel 9: the drum kit) and pan (0..127).
    swing : float
        Position of the off-beat eighth inside the beat.
    end_beat : float
        Time of the end-of-track event, in beats.
    seed : int
        Seed of the humanisation.
    """
    rng = np.random.default_rng([seed, 2])
    ticks_per_s = _TICKS_PER_BEAT * bpm / 60.0
    events: list[tuple[int, int, mido.Message]] = []
    for start, length, pitch, velocity, channel in notes:
        spread = 0.004 if channel == DRUM_CHANNEL else 0.008
        on = swung(start, swing) * _TICKS_PER_BEAT + rng.uniform(-spread, spread) * ticks_per_s
        off = swung(start + length, swing) * _TICKS_PER_BEAT
        on_tick = max(int(round(on)), 0)
        off_tick = max(int(round(off)), on_tick + 1)
        velocity = int(np.clip(velocity, 1, 127))
        events.append((on_tick, 1, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
        events.append((off_tick, 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    events.sort(key=lambda event: (event[0], event[1]))

    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
    for channel, program in programs.items():
        track.append(mido.Message("program_change", channel=channel, program=program))
        for control, value in ((7, 100), (10, pans.get(channel, 64)), (91, 30), (93, 0)):
            track.append(mido.Message("control_change", channel=channel, control=control, value=value))
    now = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    end_tick = max(int(round(end_beat * _TICKS_PER_BEAT)), now)
    track.append(mido.MetaMessage("end_of_track", time=end_tick - now))
    midi = mido.MidiFile(type=0, ticks_per_beat=_TICKS_PER_BEAT)
    midi.tracks.append(track)
    midi.save(str(path))


def _fluidsynth_start(midi_path: Path, wav_path: Path, *, sr: int) -> subprocess.Popen:
    """Start rendering ``midi_path`` to a float WAV; fluidsynth is deterministic."""
    if shutil.which("fluidsynth") is None or not SOUNDFONT.exists():
        raise RuntimeError("fluidsynth and the FluidR3 GM soundfont are needed: run bench/install_bench_deps.sh")
    # No shell, no MIDI input, quiet; reverb on, chorus off; float samples, no dither.
    options = f"-n -i -q -g 0.5 -r {sr} -R 1 -C 0 -O float -T wav".split()
    command = ["fluidsynth", *options, "-F", str(wav_path), str(SOUNDFONT), str(midi_path)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _read_fit(path: Path, *, n: int) -> np.ndarray:
    """Read a WAV as float64 (2, n), cut or zero-padded to ``n`` samples."""
    audio, _ = sf.read(path, dtype="float64", always_2d=True)
    out = np.zeros((2, n))
    m = min(n, audio.shape[0])
    out[:, :m] = audio[:m, :2].T if audio.shape[1] >= 2 else audio[:m, 0]
    return out


def render_raw(plan: SongPlan, *, n: int, sr: int, workdir: Path) -> dict[str, np.ndarray]:
    """Render the four stems of ``plan`` at the synthesiser's own levels, (2, n) each."""
    style = STYLE_BY_NAME[plan.style]
    rng = np.random.default_rng([plan.seed, 3])
    workdir.mkdir(parents=True, exist_ok=True)
    pan_comp = int(rng.integers(30, 50))
    parts = {
        "drums": (drum_part(plan, rng), {DRUM_CHANNEL: plan.kit}, {}),
        "bass": (bass_part(plan, rng), {BASS_CHANNEL: plan.bass_program}, {}),
        "other": (
            other_part(plan, rng),
            {COMP_CHANNEL: plan.comp_program, PAD_CHANNEL: plan.pad_program},
            {COMP_CHANNEL: pan_comp, PAD_CHANNEL: 128 - pan_comp},
        ),
    }
    end_beat = n / sr / plan.beat_s + 2.0
    processes = {}
    for stem, (notes, programs, pans) in parts.items():
        midi_path = workdir / f"{stem}.mid"
        write_midi(
            midi_path,
            notes=notes,
            bpm=plan.bpm,
            programs=programs,
            pans=pans,
            swing=style.swing,
            end_beat=end_beat,
            seed=plan.seed,
        )
        processes[stem] = _fluidsynth_start(midi_path, workdir / f"{stem}.wav", sr=sr)
    # The vocal is synthesised while the fluidsynth processes run.
    vocal = sing(
        notes=melody(plan=plan),
        duration_s=n / sr,
        sr=sr,
        voice=voice_for(plan, np.random.default_rng([plan.seed, 7])),
        seed=plan.seed,
    )
    stems = {"vocals": np.stack([vocal, vocal])}
    for stem, process in processes.items():
        _, stderr = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"fluidsynth failed on {stem}: {stderr.decode()[-500:]}")
        stems[stem] = _read_fit(workdir / f"{stem}.wav", n=n)
    return {stem: stems[stem] for stem in STEMS}


def balance(stems: dict[str, np.ndarray], *, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Set each stem to its RMS target (+-1 dB per song), then scale all stems by one
    factor so the mixture peaks at -1 dBFS."""
    out = {}
    for stem, audio in stems.items():
        rms = np.sqrt(np.mean(audio**2))
        target = 10 ** ((_LEVELS_DB[stem] + rng.uniform(-1, 1)) / 20)
        out[stem] = audio * (target / rms) if rms > 0 else audio
    mixture = sum(out.values())
    peak = max(np.max(np.abs(mixture)), *(np.max(np.abs(a)) for a in out.values()))
    return {stem: audio * (MIX_PEAK / peak) for stem, audio in out.items()}
