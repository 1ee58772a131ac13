/**
 * The pitch-shift AudioWorkletProcessor ("isomix-pitch-shift"): real-time, streaming,
 * stereo, our own code. Loaded by pitch-shift.js with `audioWorklet.addModule`; a worklet
 * cannot import modules in every browser, so this file is self-contained (FFT included),
 * which is why it is longer than the house's ~400 lines.
 *
 * Algorithm
 * ---------
 * Phase-vocoder pitch shifting in the frequency domain with identity phase locking, after
 * Laroche & Dolson, "New phase-vocoder techniques for real-time pitch shifting, chorusing,
 * harmonizing and other exotic audio modifications" (JAES 47(11), 1999). Per hop:
 *
 * 1. Analysis: the last N input samples, Hann-windowed and zero-phase (rotated so the
 *    frame's centre is sample 0), left + i·right in one complex FFT of size N; the two
 *    channels' spectra are separated by conjugate symmetry.
 * 2. Peaks: local maxima of |L|² + |R|² over their two neighbours on each side (above a
 *    floor 100 dB under the frame's loudest bin). Each peak owns a region of bins, split
 *    from the next peak's at the quietest bin between them.
 * 3. Per peak: its true frequency k (in bins) from the phase advance since the previous
 *    frame (the louder channel's); the region is moved by Δ = round((ratio − 1)·k) bins
 *    and rotated by θ, where θ accumulates (ratio − 1)·2π·k·hop/N per hop from the θ of
 *    the previous frame's region that held this bin (with the mean of this frame's ratio
 *    and the last one's, so that across a change two neighbouring frames agree in phase
 *    midway between them). So the peak's output phase advances by ratio × its input
 *    advance: it sounds at exactly ratio × its frequency, and every
 *    bin of the region keeps its phase relation to the peak (identity locking: no
 *    phasiness). Both channels share Δ and θ, which keeps the stereo image.
 *    Δ is whole bins, so a region sounds up to half a bin from where its phase says; a
 *    grain off by e bins loses G(e) = Σ w²(n)·cos(2π·e·n/N) / Σ w²(n) of its level
 *    (0.905, −0.9 dB, at half a bin); the region is scaled by 1 / G(e) to keep the level.
 * 4. Synthesis: the shifted spectra repacked into one complex inverse FFT, Hann-windowed
 *    again and overlap-added (Hann² at 4× overlap sums to 1.5, divided out).
 *
 * The ratio is read per frame, at the frame's centre: the value the `ratio` parameter had
 * when the frame's middle sample came in. A change made with the sources' playbackRate at
 * the same instant therefore reaches the frames holding the re-pitched audio, not earlier
 * ones. Between frames the phase is continuous, and the overlap-add crossfades the old and
 * new pitch over one window: changes are smooth, never a click.
 *
 * Ratio exactly 1 is a plain delay line: the output is the input, sample for sample,
 * `latency` samples later, and no FFT runs. When the ratio leaves 1 the frames the next
 * outputs overlap are analysed at once at ratio 1 (they rebuild the input to rounding
 * error), and the output crossfades from the delay line to the vocoder over one hop.
 * Back at ratio 1, every region's θ is unwound to 0 at no more than UNWIND_RATE of its
 * peak's own phase advance per hop (a detune of at most 0.5 %, 9 cents, while it lasts);
 * once a whole window of frames is unrotated the vocoder again rebuilds the input, the
 * output crossfades back to the delay line and the vocoder stops. (Crossfading with θ
 * left as it was would cancel partials whose θ is near π: a dip of 12 dB in our tests.)
 * While the input has been silent for two frames no FFT runs (a paused transport costs
 * nothing).
 *
 * Known limit: attacks. Like any phase vocoder without transient handling, a drum hit is
 * spread over the frames that hold it: a synthetic kick at ratio 1.25 came out with
 * pre-echo of −17 to −19 dB (re the hit) in the 40 ms before it, where ffmpeg's rubberband
 * (which resets phases at detected transients, on a time-stretch it resamples) keeps
 * −34 to −41 dB. A phase reset per region does not carry over to this bin-moving scheme
 * (an attack has no stable peaks, so its regions and their Δ change from frame to frame);
 * it was tried and measured no better.
 *
 * Latency
 * -------
 * Exactly N samples (one frame), whatever the ratio and whether bypassed or not:
 * output[t] is made from input[t − N] and its neighbours. pitch-shift.js reports it as
 * `latencySeconds` = N / sampleRate (170.7 ms at 48 kHz, 185.8 ms at 44.1 kHz).
 *
 * Knobs
 * -----
 * frameSize (N)      samples, power of two in [256, 32768]; processorOptions.frameSize
 *                    (pitch-shift.js: the smallest power of two ≥ 160 ms: 8192 at 44.1 or
 *                    48 kHz, 5.9 Hz bins at 48 kHz). Why that long: playbackRate = tempo
 *                    lowers everything before the shifter sees it, so at tempo 0.5 a low
 *                    guitar chord's partials come in ~2 bins apart at N = 4096, where the
 *                    Hann lobes (±2 bins) of neighbours overlap and a third of the output
 *                    became artefacts in our tests (11 % still at tempo 0.8); at 8192
 *                    they stay under 0.2 %. The price: latency, and drum hits smeared a
 *                    little more (pre-echo −17 dB instead of −20 dB in the 35 ms before).
 * OVERLAP            frames per window: hop = N / 4 samples (42.7 ms at 48 kHz).
 * PEAK_FLOOR         power ratio (1e-10, −100 dB) under the loudest bin below which a
 *                    local maximum is not a peak (its bins join a neighbour's region).
 * MISMATCH_STEPS     table steps of 1 / G(e) over e ∈ [0, ½] bin (32: 1/64 bin apart).
 * UNWIND_RATE        fraction (0.005) of a peak's phase advance per hop by which its θ
 *                    returns to 0 at ratio 1; UNWIND_MAX_S (4 s) bounds how long the
 *                    vocoder may run at ratio 1 before it stops anyway.
 * crossfade          samples; one hop, when entering or leaving the bypass.
 * ratio (AudioParam) frequency factor, k-rate, RATIO_MIN..RATIO_MAX = 0.25..4 (two
 *                    octaves each way; the mixer asks 2^(st/12) / tempo ∈ [1/3, 4]).
 *
 * Cost: one complex FFT and one inverse of size N per hop for both channels, plus linear
 * work per bin; nothing at ratio 1. Measured with bench/run/page_cpu.py in headless
 * Chromium on a real 48 kHz AudioContext, 4 stems summed: the page's renderer used 2–3 %
 * of one core at 1× and 5.6–6.0 % at tempo 0.8 / −2 st, so the shifter costs about 3 %.
 *
 * Messages (port): `{type: "stats"}` → `{type: "stats", frames, active}` (frames analysed
 * since the start, whether the vocoder runs), for tests.
 */

const PROCESSOR_NAME = "isomix-pitch-shift";
const RATIO_MIN = 0.25;
const RATIO_MAX = 4;
const OVERLAP = 4;
const PEAK_FLOOR = 1e-10;
const FRAME_MIN = 256;
const FRAME_MAX = 32768;
const FRAME_DEFAULT_SECONDS = 0.16;
/** Σ over the overlapping frames of Hann(n)² at OVERLAP = 4: 4 × 3/8. */
const OLA_SUM = (OVERLAP * 3) / 8;
const MISMATCH_STEPS = 32;
/** Back at ratio 1, θ returns to 0 by at most this fraction of its peak's phase advance per hop. */
const UNWIND_RATE = 0.005;
/** The longest the vocoder keeps running at ratio 1 for its rotations to unwind (seconds). */
const UNWIND_MAX_S = 4;
const TWO_PI = 2 * Math.PI;

function isFrameSize(value) {
  return Number.isInteger(value) && value >= FRAME_MIN && value <= FRAME_MAX && (value & (value - 1)) === 0;
}

function defaultFrameSize(rate) {
  let size = FRAME_MIN;
  while (size < rate * FRAME_DEFAULT_SECONDS && size < FRAME_MAX) size *= 2;
  return size;
}

/** `angle` wrapped to [−π, π]. */
function principal(angle) {
  return angle - TWO_PI * Math.round(angle / TWO_PI);
}

/**
 * In-place iterative complex FFT of one size (tables built once): bit reversal, then
 * radix-2² passes (two radix-2 stages per pass over the data), one radix-2 pass first
 * when log2(N) is odd.
 */
class Fft {
  constructor(size) {
    this.size = size;
    this.cos = new Float64Array(size / 2);
    this.sin = new Float64Array(size / 2);
    for (let i = 0; i < size / 2; i++) {
      this.cos[i] = Math.cos((TWO_PI * i) / size);
      this.sin[i] = Math.sin((TWO_PI * i) / size);
    }
    const bits = Math.log2(size);
    this.oddStage = bits % 2 === 1;
    this.reverse = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.reverse[i] = r;
    }
  }

  /** X[k] = Σ x[n]·e^(∓2πikn/N): forward (−) unless `inverse` (+, not divided by N). */
  transform(re, im, inverse) {
    const n = this.size;
    const reverse = this.reverse;
    for (let i = 0; i < n; i++) {
      const j = reverse[i];
      if (j > i) {
        let t = re[i];
        re[i] = re[j];
        re[j] = t;
        t = im[i];
        im[i] = im[j];
        im[j] = t;
      }
    }
    const cos = this.cos;
    const sin = this.sin;
    const sign = inverse ? 1 : -1;
    let h = 1;
    if (this.oddStage) {
      for (let a = 0; a < n; a += 2) {
        const xr = re[a + 1];
        const xi = im[a + 1];
        re[a + 1] = re[a] - xr;
        im[a + 1] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
      h = 2;
    }
    for (; h < n; h *= 4) {
      // Spans h then 2h: pairs (a0, a1), (a2, a3) with W(2h)^k, then (a0, a2) with W(4h)^k
      // and (a1, a3) with W(4h)^(k + h) = W(4h)^k · (sign · i).
      const stride = n / (4 * h);
      for (let k = 0; k < h; k++) {
        const w2r = cos[k * stride];
        const w2i = sign * sin[k * stride];
        const w1r = cos[2 * k * stride];
        const w1i = sign * sin[2 * k * stride];
        for (let a0 = k; a0 < n; a0 += 4 * h) {
          const a1 = a0 + h;
          const a2 = a1 + h;
          const a3 = a2 + h;
          const x0r = re[a0];
          const x0i = im[a0];
          const x2r = re[a2];
          const x2i = im[a2];
          const m1r = re[a1] * w1r - im[a1] * w1i;
          const m1i = re[a1] * w1i + im[a1] * w1r;
          const m3r = re[a3] * w1r - im[a3] * w1i;
          const m3i = re[a3] * w1i + im[a3] * w1r;
          const t0r = x0r + m1r;
          const t0i = x0i + m1i;
          const t1r = x0r - m1r;
          const t1i = x0i - m1i;
          const t2r = x2r + m3r;
          const t2i = x2i + m3i;
          const t3r = x2r - m3r;
          const t3i = x2i - m3i;
          const u2r = t2r * w2r - t2i * w2i;
          const u2i = t2r * w2i + t2i * w2r;
          const u3r = t3r * w2r - t3i * w2i;
          const u3i = t3r * w2i + t3i * w2r;
          const v3r = -sign * u3i;
          const v3i = sign * u3r;
          re[a0] = t0r + u2r;
          im[a0] = t0i + u2i;
          re[a2] = t0r - u2r;
          im[a2] = t0i - u2i;
          re[a1] = t1r + v3r;
          im[a1] = t1i + v3i;
          re[a3] = t1r - v3r;
          im[a3] = t1i - v3i;
        }
      }
    }
  }
}

class PitchShiftProcessor extends AudioWorkletProcessor {
  static get parameterDescriptors() {
    return [{ name: "ratio", defaultValue: 1, minValue: RATIO_MIN, maxValue: RATIO_MAX, automationRate: "k-rate" }];
  }

  constructor(options) {
    super();
    const requested = options?.processorOptions?.frameSize;
    const size = isFrameSize(requested) ? requested : defaultFrameSize(sampleRate);
    const bins = size / 2 + 1;
    this.size = size;
    this.hop = size / OVERLAP;
    /** Phase advance of bin 1 over one hop (radians): 2π·hop/N. */
    this.binAdvance = (TWO_PI * this.hop) / size;
    this.fft = new Fft(size);

    // Rings of 4 frames: input (for the frames and the delay line), ratio per input sample,
    // and the overlap-add sums, all indexed by the input position modulo the ring.
    const ring = 4 * size;
    this.mask = ring - 1;
    this.inL = new Float32Array(ring);
    this.inR = new Float32Array(ring);
    this.ratioAt = new Float32Array(ring).fill(1);
    this.sumL = new Float32Array(ring);
    this.sumR = new Float32Array(ring);
    this.write = 0;
    this.sinceHop = 0;
    this.silentFor = ring;

    this.window = new Float64Array(size);
    for (let n = 0; n < size; n++) this.window[n] = 0.5 - 0.5 * Math.cos((TWO_PI * n) / size);
    // The synthesis window carries the inverse FFT's 1 / N and the overlap-add's 1 / 1.5.
    this.synthesisWindow = this.window.map((w) => w / (size * OLA_SUM));
    this.mismatchGain = new Float64Array(MISMATCH_STEPS + 1);
    let energy = 0;
    for (let n = 0; n < size; n++) energy += this.window[n] ** 2;
    for (let step = 0; step <= MISMATCH_STEPS; step++) {
      const e = (0.5 * step) / MISMATCH_STEPS;
      let kept = 0;
      for (let n = 0; n < size; n++) kept += this.window[n] ** 2 * Math.cos((TWO_PI * e * (n - size / 2)) / size);
      this.mismatchGain[step] = energy / kept;
    }

    this.re = new Float64Array(size);
    this.im = new Float64Array(size);
    this.spectrum = () => ({
      lr: new Float64Array(bins),
      li: new Float64Array(bins),
      rr: new Float64Array(bins),
      ri: new Float64Array(bins),
    });
    this.now = this.spectrum();
    this.before = this.spectrum();
    this.out = this.spectrum();
    this.power = new Float64Array(bins);
    this.peaks = new Int32Array(bins);
    this.theta = new Float64Array(bins);
    this.thetaBefore = new Float64Array(bins);

    this.active = false;
    this.mix = 0;
    this.mixTarget = 0;
    this.mixStep = 1 / this.hop;
    this.settledFrames = 0;
    this.unityFrames = 0;
    this.unwindFrames = Math.ceil((UNWIND_MAX_S * sampleRate) / this.hop);
    this.lastRatio = 1;
    this.rotationLeft = 0;
    this.readStart = 0;
    this.frames = 0;
    this.port.onmessage = (event) => {
      if (event.data?.type === "stats") {
        this.port.postMessage({ type: "stats", frames: this.frames, active: this.active });
      }
    };
  }

  process(inputs, outputs, parameters) {
    const input = inputs[0];
    const output = outputs[0];
    const outL = output[0];
    const outR = output.length > 1 ? output[1] : null;
    const count = outL.length;
    const inL = input.length > 0 ? input[0] : null;
    const inR = input.length > 1 ? input[1] : inL;
    const ratios = parameters.ratio;
    const mask = this.mask;
    // The first position this quantum's output reads (activate() clears what lies before it).
    this.readStart = (this.write - this.size) & mask;

    for (let i = 0; i < count; i++) {
      const at = this.write;
      const left = inL ? inL[i] : 0;
      const right = inR ? inR[i] : 0;
      this.inL[at] = left;
      this.inR[at] = right;
      this.ratioAt[at] = ratios.length > 1 ? ratios[i] : ratios[0];
      this.silentFor = left === 0 && right === 0 ? this.silentFor + 1 : 0;
      this.write = (at + 1) & mask;
      if (++this.sinceHop === this.hop) {
        this.sinceHop = 0;
        this.frameDue();
      }
    }

    let at = (this.write - count - this.size) & mask;
    for (let i = 0; i < count; i++, at = (at + 1) & mask) {
      const dryL = this.inL[at];
      const dryR = this.inR[at];
      if (!this.active) {
        outL[i] = dryL;
        if (outR) outR[i] = dryR;
        continue;
      }
      const wetL = this.sumL[at];
      const wetR = this.sumR[at];
      this.sumL[at] = 0;
      this.sumR[at] = 0;
      if (this.mix !== this.mixTarget) {
        this.mix = this.mixTarget > this.mix ? Math.min(1, this.mix + this.mixStep) : Math.max(0, this.mix - this.mixStep);
      }
      outL[i] = dryL + this.mix * (wetL - dryL);
      if (outR) outR[i] = dryR + this.mix * (wetR - dryR);
      if (this.mix === 0 && this.mixTarget === 0) this.deactivate();
    }
    return true;
  }

  /** A hop is complete: the frame ending at the write position is due. */
  frameDue() {
    const end = this.write;
    const ratio = this.ratioAt[(end - this.size / 2) & this.mask];
    if (!this.active) {
      if (ratio === 1) return;
      this.activate(end);
    }
    this.analyse(end, ratio);
    if (ratio === 1) {
      // Back to the delay line once every frame the output still overlaps is unrotated
      // (the vocoder then rebuilds the input, so the crossfade cannot be heard).
      this.unityFrames += 1;
      this.settledFrames = this.rotationLeft === 0 ? this.settledFrames + 1 : 0;
      if (this.settledFrames > OVERLAP || this.unityFrames > this.unwindFrames) this.mixTarget = 0;
    } else {
      this.unityFrames = 0;
      this.settledFrames = 0;
      this.mixTarget = 1;
    }
  }

  /** Start the vocoder: rebuild the frames the next outputs overlap, at ratio 1. */
  activate(end) {
    this.active = true;
    this.mix = 0;
    this.unityFrames = 0;
    this.settledFrames = 0;
    this.lastRatio = 1;
    this.theta.fill(0);
    this.thetaBefore.fill(0);
    for (let frameEnd = end - this.size; frameEnd !== end; frameEnd = (frameEnd + this.hop) & this.mask) {
      this.analyse(frameEnd, 1);
    }
    // The oldest of those frames also wrote where no output will be read again: clear it,
    // since those ring slots come round again for later positions.
    const oldest = end - 2 * this.size;
    const stale = (this.readStart - oldest) & this.mask;
    for (let k = 0; k < stale; k++) {
      this.sumL[(oldest + k) & this.mask] = 0;
      this.sumR[(oldest + k) & this.mask] = 0;
    }
  }

  deactivate() {
    this.active = false;
    this.sumL.fill(0);
    this.sumR.fill(0);
  }

  /** One frame: the N input samples before `end`, shifted by `ratio`, overlap-added. */
  analyse(end, ratio) {
    if (this.silentFor >= 2 * this.size) {
      // Nothing but silence in this frame and the one before: no sound, no work.
      const now = this.now;
      now.lr.fill(0);
      now.li.fill(0);
      now.rr.fill(0);
      now.ri.fill(0);
      this.swap(false);
      this.lastRatio = ratio;
      this.rotationLeft = 0;
      return;
    }
    this.frames += 1;
    const start = end - this.size;
    this.spectra(start);
    const peakCount = this.findPeaks();
    this.shiftRegions(peakCount, ratio);
    this.lastRatio = ratio;
    this.synthesise(start);
    if (peakCount === 0) this.theta.set(this.thetaBefore);
    this.swap(true);
  }

  /** Both channels' spectra of the frame starting at `start` (zero-phase, Hann) and their power. */
  spectra(start) {
    const size = this.size;
    const half = size / 2;
    const last = size - 1;
    const mask = this.mask;
    const re = this.re;
    const im = this.im;
    const win = this.window;
    const inL = this.inL;
    const inR = this.inR;
    for (let n = 0; n < size; n++) {
      const at = (start + n) & mask;
      const j = (n + half) & last;
      re[j] = inL[at] * win[n];
      im[j] = inR[at] * win[n];
    }
    this.fft.transform(re, im, false);
    const { lr, li, rr, ri } = this.now;
    const power = this.power;
    for (let k = 0; k <= half; k++) {
      const mirror = (size - k) & last;
      const zr = re[k];
      const zi = im[k];
      const cr = re[mirror];
      const ci = im[mirror];
      const a = 0.5 * (zr + cr);
      const b = 0.5 * (zi - ci);
      const c = 0.5 * (zi + ci);
      const d = 0.5 * (cr - zr);
      lr[k] = a;
      li[k] = b;
      rr[k] = c;
      ri[k] = d;
      power[k] = a * a + b * b + c * c + d * d;
    }
  }

  /** Local maxima of the power over two bins each side, above the floor; their count. */
  findPeaks() {
    const half = this.size / 2;
    const power = this.power;
    const peaks = this.peaks;
    let loudest = 0;
    for (let k = 0; k <= half; k++) if (power[k] > loudest) loudest = power[k];
    if (loudest === 0) return 0;
    const floor = loudest * PEAK_FLOOR;
    let count = 0;
    for (let k = 0; k <= half; k++) {
      const p = power[k];
      if (
        p > floor &&
        (k < 1 || p > power[k - 1]) &&
        (k < 2 || p > power[k - 2]) &&
        (k + 1 > half || p >= power[k + 1]) &&
        (k + 2 > half || p >= power[k + 2])
      ) {
        peaks[count++] = k;
      }
    }
    return count;
  }

  /** Move and rotate every peak's region into the output spectra (see the algorithm above). */
  shiftRegions(peakCount, ratio) {
    const half = this.size / 2;
    const power = this.power;
    const peaks = this.peaks;
    const { lr, li, rr, ri } = this.now;
    const before = this.before;
    const out = this.out;
    const olr = out.lr;
    const oli = out.li;
    const orr = out.rr;
    const ori = out.ri;
    olr.fill(0);
    oli.fill(0);
    orr.fill(0);
    ori.fill(0);
    const theta = this.theta;
    const thetaBefore = this.thetaBefore;
    const binAdvance = this.binAdvance;
    const mismatchGain = this.mismatchGain;
    const stretch = ratio - 1;
    // The phase advances at the mean of the last frame's ratio and this one's: two
    // neighbouring frames then agree at the midpoint between them, where they overlap most.
    const advance = (ratio + this.lastRatio) / 2 - 1;
    const unwinding = ratio === 1;
    let rotationLeft = 0;
    let low = 0;
    for (let index = 0; index < peakCount; index++) {
      const peak = peaks[index];
      let high = half;
      if (index + 1 < peakCount) {
        const next = peaks[index + 1];
        high = peak;
        for (let k = peak + 1; k < next; k++) if (power[k] < power[high]) high = k;
      }
      // The peak's frequency in bins, from its phase advance since the last frame.
      const left = lr[peak] * lr[peak] + li[peak] * li[peak] >= rr[peak] * rr[peak] + ri[peak] * ri[peak];
      const phaseNow = left ? Math.atan2(li[peak], lr[peak]) : Math.atan2(ri[peak], rr[peak]);
      const phaseBefore = left
        ? Math.atan2(before.li[peak], before.lr[peak])
        : Math.atan2(before.ri[peak], before.rr[peak]);
      const frequency = peak + principal(phaseNow - phaseBefore - binAdvance * peak) / binAdvance;
      const shift = stretch * frequency;
      const delta = Math.round(shift);
      const gain = mismatchGain[Math.round(Math.abs(shift - delta) * 2 * MISMATCH_STEPS)];
      let angle = principal(thetaBefore[peak] + advance * binAdvance * frequency);
      if (unwinding) {
        const step = UNWIND_RATE * binAdvance * Math.max(frequency, 1);
        angle = angle > step ? angle - step : angle < -step ? angle + step : 0;
        rotationLeft = Math.max(rotationLeft, Math.abs(angle));
      }
      const c = Math.cos(angle) * gain;
      const s = Math.sin(angle) * gain;
      for (let k = low; k <= high; k++) theta[k] = angle;
      const from = Math.max(low, -delta);
      const to = Math.min(high, half - delta);
      for (let k = from; k <= to; k++) {
        const d = k + delta;
        olr[d] += lr[k] * c - li[k] * s;
        oli[d] += lr[k] * s + li[k] * c;
        orr[d] += rr[k] * c - ri[k] * s;
        ori[d] += rr[k] * s + ri[k] * c;
      }
      low = high + 1;
    }
    this.rotationLeft = rotationLeft;
  }

  /** The output spectra back to sound: one inverse FFT, Hann, overlap-added at `start`. */
  synthesise(start) {
    const size = this.size;
    const half = size / 2;
    const last = size - 1;
    const mask = this.mask;
    const re = this.re;
    const im = this.im;
    const { lr, li, rr, ri } = this.out;
    // Left + i·right again: Z[k] = L[k] + i·R[k], Z[N − k] = conj(L[k]) + i·conj(R[k]).
    re[0] = lr[0];
    im[0] = rr[0];
    re[half] = lr[half];
    im[half] = rr[half];
    for (let k = 1; k < half; k++) {
      re[k] = lr[k] - ri[k];
      im[k] = li[k] + rr[k];
      re[size - k] = lr[k] + ri[k];
      im[size - k] = rr[k] - li[k];
    }
    this.fft.transform(re, im, true);
    const win = this.synthesisWindow;
    const sumL = this.sumL;
    const sumR = this.sumR;
    for (let n = 0; n < size; n++) {
      const at = (start + n) & mask;
      const j = (n + half) & last;
      sumL[at] += re[j] * win[n];
      sumR[at] += im[j] * win[n];
    }
  }

  /** This frame becomes the one before (its spectra, and its rotations with `rotations`). */
  swap(rotations) {
    const spectrum = this.before;
    this.before = this.now;
    this.now = spectrum;
    if (!rotations) return;
    const theta = this.thetaBefore;
    this.thetaBefore = this.theta;
    this.theta = theta;
  }
}

registerProcessor(PROCESSOR_NAME, PitchShiftProcessor);
