"""The page's pitch shifter (static/js/mixer/pitch-shift.js and its worklet) in real Chromium.

Signals with known answers are rendered through the shifter in an OfflineAudioContext on a
studio page (so under the studio's CSP, the worklet loaded from /static/ like the mixer
loads it), and measured here:

- ratio 1 is the input, bit for bit, exactly ``latencySeconds`` later, and runs no FFT;
- tempo through playbackRate plus the shifter at 2^(st/12) / tempo puts a sine at
  440·2^(st/12) Hz at a steady level, at the headline setting and at both extremes;
- a chord keeps its three partials, shifted;
- the page and the export (ffmpeg's ``rubberband``, as the export renders) agree on the
  duration and on the pitch of each channel;
- ratio changes mid-signal, into and out of the bypass, leave no click;
- without AudioWorklet the shifter is a plain pass-through that says it is unsupported.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SR = 48_000
#: pitch-shift.js's frame at 44.1 and 48 kHz (the smallest power of two ≥ 160 ms): its latency.
FRAME = 8192
#: Settling time after an onset (the first frames see the start of the signal) and before its end.
SETTLE_S = 0.3
FFMPEG_TIMEOUT_S = 60

_RENDER = """async ({ sampleRate, seconds, channels, playbackRate, ratios, noWorklet }) => {
  const { createPitchShifter } = await import("/static/js/mixer/pitch-shift.js");
  const decode = (text) => {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  };
  const encode = (floats) => {
    const bytes = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  };
  const context = new OfflineAudioContext(2, Math.round(sampleRate * seconds), sampleRate);
  if (noWorklet) Object.defineProperty(context, "audioWorklet", { value: undefined });
  const shifter = await createPitchShifter(context);
  const data = channels.map(decode);
  const buffer = context.createBuffer(data.length, data[0].length, sampleRate);
  data.forEach((samples, index) => buffer.copyToChannel(samples, index));
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.playbackRate.value = playbackRate;
  source.connect(shifter.input);
  shifter.output.connect(context.destination);
  for (const [time, ratio] of ratios) shifter.setRatio(ratio, time);
  source.start(0);
  const rendered = await context.startRendering();
  return {
    supported: shifter.supported,
    latency: shifter.latencySeconds,
    stats: await shifter.stats(),
    channels: [0, 1].map((index) => encode(rendered.getChannelData(index))),
  };
}"""


@pytest.fixture(scope="module")
def studio_page(chromium_browser, studio_server):
    """A studio page (the login page: no account needed) whose scripts may import /static/."""
    context = chromium_browser.new_context(base_url=studio_server.base_url)
    context.set_default_timeout(60_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: print(f"[browser {message.type}] {message.text}"))
    page.goto("/accounts/login/")
    yield page
    context.close()
    assert errors == []


def render(
    page: Page,
    channels: list[np.ndarray],
    *,
    seconds: float,
    playback_rate: float = 1.0,
    ratios: list[tuple[float, float]],
    no_worklet: bool = False,
    sr: int = SR,
) -> dict[str, Any]:
    """Play ``channels`` (float32, ``sr``) at ``playback_rate`` through a new shifter; the output.

    ``ratios`` are ``(time_s, ratio)`` for ``setRatio(ratio, time_s)``. Returns the shifter's
    ``supported``, ``latency`` (s) and ``stats``, and ``out`` as (2, n) float32.
    """
    result = page.evaluate(
        _RENDER,
        {
            "sampleRate": sr,
            "seconds": seconds,
            "channels": [base64.b64encode(np.asarray(c, dtype="<f4").tobytes()).decode() for c in channels],
            "playbackRate": playback_rate,
            "ratios": ratios,
            "noWorklet": no_worklet,
        },
    )
    result["out"] = np.stack([np.frombuffer(base64.b64decode(c), dtype="<f4") for c in result.pop("channels")])
    return result


def sine(freq_hz: float, seconds: float, *, amplitude: float = 0.5, sr: int = SR) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def spectrum(x: np.ndarray, sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """Hann-windowed magnitude spectrum, zero-padded 4×: (frequencies Hz, magnitudes)."""
    size = 1 << (int(np.ceil(np.log2(len(x)))) + 2)
    magnitude = np.abs(np.fft.rfft(x * np.hanning(len(x)), size))
    return np.fft.rfftfreq(size, 1 / sr), magnitude


def peak_frequency(freqs: np.ndarray, magnitude: np.ndarray, k: int) -> float:
    """The frequency of the peak at bin ``k``, refined by a parabola through log magnitudes."""
    a, b, c = np.log(magnitude[k - 1 : k + 2] + 1e-30)
    return float(freqs[k] + 0.5 * (a - c) / (a - 2 * b + c) * (freqs[1] - freqs[0]))


def dominant_frequency(x: np.ndarray) -> float:
    freqs, magnitude = spectrum(x)
    return peak_frequency(freqs, magnitude, int(np.argmax(magnitude[1:-1])) + 1)


def strongest_peaks(x: np.ndarray, count: int, *, apart_hz: float = 15.0) -> list[float]:
    """The ``count`` strongest spectral peaks at least ``apart_hz`` apart, in Hz, ascending."""
    freqs, magnitude = spectrum(x)
    left = magnitude.copy()
    found = []
    for _ in range(count):
        k = int(np.argmax(left[1:-1])) + 1
        found.append(peak_frequency(freqs, magnitude, k))
        left[np.abs(freqs - freqs[k]) < apart_hz] = 0
    return sorted(found)


def energy_outside(x: np.ndarray, partials: list[float], *, tolerance: float = 0.01) -> float:
    """Fraction of the spectrum's energy farther than ``tolerance`` (relative, ≥ 3 Hz) from every partial."""
    freqs, magnitude = spectrum(x)
    near = np.zeros(freqs.shape, dtype=bool)
    for f in partials:
        near |= np.abs(freqs - f) <= max(3.0, tolerance * f)
    power = magnitude**2
    return float(power[~near].sum() / power.sum())


def window_levels_db(x: np.ndarray, *, window_s: float = 0.05) -> np.ndarray:
    """RMS of consecutive ``window_s`` windows, in dB re full scale."""
    size = round(window_s * SR)
    windows = x[: len(x) // size * size].reshape(-1, size).astype(np.float64)
    return 20 * np.log10(np.sqrt(np.mean(windows**2, axis=1)))


def audible_span(x: np.ndarray, *, window_s: float = 0.01) -> tuple[float, float]:
    """First and last time (s) the 10 ms RMS envelope is above half (−6 dB) of its maximum."""
    size = round(window_s * SR)
    envelope = np.sqrt(np.convolve(x.astype(np.float64) ** 2, np.ones(size) / size, mode="same"))
    loud = np.nonzero(envelope > envelope.max() / 2)[0]
    return loud[0] / SR, loud[-1] / SR


def steady(out: np.ndarray, *, latency_s: float, duration_s: float) -> np.ndarray:
    """The part of one output channel after the onset has settled and before the tail."""
    return out[round((latency_s + SETTLE_S) * SR) : round((latency_s + duration_s - SETTLE_S) * SR)]


@pytest.mark.parametrize("sr", [44_100, 48_000])
def test_ratio_one_is_the_input_bit_for_bit_after_the_latency_and_runs_no_fft(studio_page: Page, sr: int) -> None:
    # Given noise on the left and a sine on the right, as float32
    rng = np.random.default_rng(7)
    left = (0.3 * rng.standard_normal(2 * sr)).astype(np.float32)
    right = sine(440, 2.0, sr=sr)

    # When they go through the shifter at ratio 1
    result = render(studio_page, [left, right], seconds=2.5, ratios=[(0, 1.0)], sr=sr)

    # Then the latency is one frame, and the output is the input delayed by exactly that
    assert result["supported"] is True
    assert result["latency"] == FRAME / sr
    out = result["out"]
    assert not out[:, :FRAME].any()
    assert np.array_equal(out[0, FRAME : FRAME + len(left)], left)
    assert np.array_equal(out[1, FRAME : FRAME + len(right)], right)
    # And the vocoder never ran: no frame was analysed
    assert result["stats"] == {"frames": 0, "active": False}


@pytest.mark.parametrize(("tempo", "semitones"), [(0.8, -2), (0.5, 12), (1.5, -12)])
def test_tempo_and_transpose_give_the_right_pitch_at_a_steady_level(
    studio_page: Page, tempo: float, semitones: int
) -> None:
    # Given a 440 Hz sine played at `tempo` (so at 440·tempo Hz) into the shifter at
    # 2^(st/12) / tempo, as the mixer sets them
    source = sine(440, 2.0)
    duration = len(source) / SR / tempo

    # When it is rendered
    result = render(
        studio_page,
        [source],
        seconds=duration + 0.5,
        playback_rate=tempo,
        ratios=[(0, 2 ** (semitones / 12) / tempo)],
    )

    # Then both channels sound at 440·2^(st/12) Hz within 0.5 %
    assert result["supported"] is True
    target = 440 * 2 ** (semitones / 12)
    for channel in result["out"]:
        part = steady(channel, latency_s=result["latency"], duration_s=duration)
        assert dominant_frequency(part) == pytest.approx(target, rel=0.005)
        # And every 50 ms window is within ±1.5 dB of the input's level: no warble
        input_db = 20 * np.log10(0.5 / np.sqrt(2))
        levels = window_levels_db(part) - input_db
        assert np.all(np.abs(levels) <= 1.5), (levels.min(), levels.max())
    assert result["stats"]["active"] is True


@pytest.mark.parametrize(("tempo", "semitones"), [(0.8, -2), (0.5, 12), (1.5, -12)])
def test_a_chord_keeps_its_three_partials_shifted(studio_page: Page, tempo: float, semitones: int) -> None:
    # Given an A major triad (220, 277.2, 329.6 Hz) played at `tempo` into the shifter
    partials = [220.0, 277.2, 329.6]
    t = np.arange(2 * SR) / SR
    chord = (0.2 * sum(np.sin(2 * np.pi * f * t) for f in partials)).astype(np.float32)
    duration = len(chord) / SR / tempo

    # When it is rendered at 2^(st/12) / tempo
    result = render(
        studio_page,
        [chord],
        seconds=duration + 0.5,
        playback_rate=tempo,
        ratios=[(0, 2 ** (semitones / 12) / tempo)],
    )

    # Then its three strongest partials are the chord's, shifted by st, each within 1 %
    shifted = [f * 2 ** (semitones / 12) for f in partials]
    part = steady(result["out"][0], latency_s=result["latency"], duration_s=duration)
    found = strongest_peaks(part, 3)
    assert found == pytest.approx(shifted, rel=0.01)
    # And next to nothing is heard elsewhere (under 1 % of the energy)
    assert energy_outside(part, shifted) < 0.01


def test_the_page_and_the_export_agree_on_duration_and_pitch(studio_page: Page, tmp_path: Path) -> None:
    # Given a 3 s stereo tone: 440 Hz on the left, 660 Hz on the right
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is required (the export renders with it)"
    tempo, semitones = 0.8, -2
    left, right = sine(440, 3.0, amplitude=0.4), sine(660, 3.0, amplitude=0.4)
    source = tmp_path / "tone.wav"
    sf.write(source, np.stack([left, right], axis=1), SR, subtype="FLOAT")

    # When it is played in the page at tempo 0.8 / −2 st (playbackRate + shifter)
    page = render(
        studio_page,
        [left, right],
        seconds=3.0 / tempo + 0.5,
        playback_rate=tempo,
        ratios=[(0, 2 ** (semitones / 12) / tempo)],
    )
    # And rendered by ffmpeg's rubberband filter as the export does
    exported = tmp_path / "export.wav"
    rubberband = f"rubberband=tempo={tempo}:pitch={2 ** (semitones / 12)}"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-i", str(source), "-af", rubberband, str(exported)],
        check=True,
        timeout=FFMPEG_TIMEOUT_S,
    )
    export, export_sr = sf.read(exported, dtype="float32", always_2d=True)
    assert export_sr == SR

    # Then both last 3 s / 0.8 = 3.75 s, within 30 ms of each other
    for index in (0, 1):
        page_start, page_end = audible_span(page["out"][index])
        export_start, export_end = audible_span(export[:, index])
        assert page_end - page_start == pytest.approx(export_end - export_start, abs=0.030)
        assert page_end - page_start == pytest.approx(3.0 / tempo, abs=0.030)
        # And the page's sound starts after the latency it reports (what the playhead subtracts)
        assert page_start == pytest.approx(page["latency"], abs=0.015)
        # And each channel's pitch agrees within 0.5 %
        page_part = page["out"][index][round((page_start + SETTLE_S) * SR) : round((page_end - SETTLE_S) * SR)]
        export_part = export[round((export_start + SETTLE_S) * SR) : round((export_end - SETTLE_S) * SR), index]
        assert dominant_frequency(page_part) == pytest.approx(dominant_frequency(export_part), rel=0.005)
    assert dominant_frequency(page_part) == pytest.approx(660 * 2 ** (semitones / 12), rel=0.005)


def test_ratio_changes_mid_signal_leave_no_click(studio_page: Page) -> None:
    # Given a 440 Hz sine whose ratio goes 1 → 1.25 → 0.8 → back to 1 while it plays
    source = sine(440, 4.0)
    highest_hz = 440 * 1.25

    # When it is rendered
    result = render(studio_page, [source], seconds=4.0, ratios=[(0, 1.0), (0.6, 1.25), (1.4, 0.8), (2.2, 1.0)])

    # Then no sample jumps: a sum of sines of total amplitude A below f_max has
    # |y[n+1] − 2y[n] + y[n−1]| ≤ A·(2·sin(π·f_max/SR))² (0.0026 here), while a step of
    # size s in the signal shows as ≈ s; allow the measured peak amplitude and 25 % more.
    out = result["out"][0].astype(np.float64)
    latency = round(result["latency"] * SR)
    body = out[latency + round(0.1 * SR) : latency + len(source) - round(0.1 * SR)]
    bound = 1.25 * np.abs(body).max() * (2 * np.sin(np.pi * highest_hz / SR)) ** 2
    curvature = np.abs(np.diff(body, 2))
    assert curvature.max() <= bound, (curvature.max(), bound, (np.argmax(curvature) + latency) / SR)
    # And the level never fell away in a change (10 ms windows above −6 dB of the sine's)
    assert np.all(window_levels_db(body, window_s=0.01) >= 20 * np.log10(0.5 / np.sqrt(2)) - 6)
    # And back at ratio 1 the shifter returned to the bit-exact delay line and stopped
    back = round(3.4 * SR)
    assert np.array_equal(out[back:].astype(np.float32), source[back - latency : len(out) - latency])
    assert result["stats"]["active"] is False


def test_without_audio_worklet_it_is_a_pass_through_that_says_so(studio_page: Page) -> None:
    # Given a context without AudioWorklet
    source = sine(440, 1.0)

    # When a shifter is made on it, asked for a ratio, and played through
    result = render(studio_page, [source], seconds=1.0, ratios=[(0, 1.5)], no_worklet=True)

    # Then it says it is unsupported, adds no latency, and passes the sound untouched
    assert result["supported"] is False
    assert result["latency"] == 0
    assert np.array_equal(result["out"][0], source)
    assert np.array_equal(result["out"][1], source)
