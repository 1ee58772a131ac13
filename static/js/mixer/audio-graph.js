/**
 * The mixer's Web Audio graph: one channel strip per stem into a master bus.
 *
 *   source(s) → fader (gain dB) → gate (mute/solo, 0 or 1) → StereoPanner → master bus
 *   master bus → [pitch shifter] → out → destination
 *   (a strip's meter taps its panner's output; the master meter taps `out`)
 *
 * The settings kept here are the mixer's strips and master; `settings()` returns them in the
 * export payload's shape (main.js adds tempo, transpose and loop), so an export renders
 * exactly what is heard.
 *
 * The ranges are not defined here: the page serves them (`data-mixer-ranges` on the mixer
 * root, from `domain/mix.py`'s `mixer_ranges()`, the same figures the export API validates
 * with), and the graph clamps every gain and pan to them, so the state it reports is one
 * the server accepts.
 *
 * Meters: an AnalyserNode per channel (left, right) after each strip's panner, and after
 * the master bus (what is heard, past the pitch shifter). `peakLevels()` reads their last
 * `METER_WINDOW` samples (~46 ms at 44.1 kHz) and returns the linear peak of each.
 */

import { gettext } from "../i18n.js";

/** Time constant of parameter changes: short enough to feel instant, long enough not to click. */
const SMOOTHING_S = 0.012;
/** Samples an analyser keeps: ~46 ms at 44.1 kHz, ~43 ms at 48 kHz ("the last ~50 ms"). */
const METER_WINDOW = 2048;

export function dbToGain(db) {
  return 10 ** (db / 20);
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

/** Used where the page is served without them (an older domain/mix.py): the contract's values. */
const RANGE_DEFAULTS = {
  tempo: { min: 0.5, max: 1.5, step: 0.05 },
  transpose: { min: -12, max: 12, step: 1 },
  loop_min_s: 0.1,
};

/**
 * The served ranges, checked: `{"gain_db": {"min", "max", "step"}, "pan": {...},
 * "peaks_per_second", "tempo": {...}, "transpose": {...}, "loop_min_s", "mp3_bitrates",
 * "mp3_bitrate_default"}` (numbers, as `mixer_ranges()` in domain/mix.py writes them).
 * Tempo, transpose and loop_min_s fall back to the contract's figures when absent.
 *
 * @param {string | undefined} json  the mixer root's `data-mixer-ranges`
 * @throws {Error} when the attribute is missing or not of that shape
 */
export function parseMixerRanges(json) {
  let ranges;
  try {
    ranges = JSON.parse(json ?? "");
  } catch {
    throw new Error(gettext("the page has no mixer ranges (data-mixer-ranges)"));
  }
  const isRange = (range) =>
    range && ["min", "max", "step"].every((key) => Number.isFinite(range[key])) && range.min < range.max && range.step > 0;
  if (!ranges || !isRange(ranges.gain_db) || !isRange(ranges.pan) || !(ranges.peaks_per_second > 0)) {
    throw new Error(gettext("the page's mixer ranges (data-mixer-ranges) are malformed"));
  }
  for (const [key, fallback] of Object.entries(RANGE_DEFAULTS)) {
    if (ranges[key] === undefined) ranges[key] = fallback;
  }
  if (!isRange(ranges.tempo) || !isRange(ranges.transpose) || !(ranges.loop_min_s > 0)) {
    throw new Error(gettext("the page's mixer ranges (data-mixer-ranges) are malformed"));
  }
  return ranges;
}

/** Left and right analysers fed from `node`. */
function stereoTaps(context, node) {
  const splitter = context.createChannelSplitter(2);
  node.connect(splitter);
  const taps = [0, 1].map((channel) => {
    const analyser = context.createAnalyser();
    analyser.fftSize = METER_WINDOW;
    splitter.connect(analyser, channel);
    return analyser;
  });
  return { splitter, taps };
}

export class AudioGraph {
  /**
   * @param {BaseAudioContext} context
   * @param {{gain_db: {min: number, max: number}, pan: {min: number, max: number}}} ranges
   *   as `parseMixerRanges` returns them
   */
  constructor(context, ranges) {
    this.context = context;
    this.ranges = ranges;
    this.master = context.createGain();
    this.out = context.createGain();
    this.master.connect(this.out);
    this.out.connect(context.destination);
    this.masterMeter = stereoTaps(context, this.out);
    this.masterGainDb = 0;
    this.shifter = null;
    this.scratch = new Float32Array(METER_WINDOW);
    /** @type {Map<string, {fader: GainNode, gate: GainNode, panner: StereoPannerNode,
     *   taps: AnalyserNode[], gainDb: number, mute: boolean, solo: boolean, pan: number}>} */
    this.channels = new Map();
  }

  /** Create the channel strip for a stem (idempotent). */
  addStem(kind) {
    if (this.channels.has(kind)) return;
    const fader = this.context.createGain();
    const gate = this.context.createGain();
    const panner = this.context.createStereoPanner();
    fader.connect(gate).connect(panner).connect(this.master);
    const { taps } = stereoTaps(this.context, panner);
    this.channels.set(kind, { fader, gate, panner, taps, gainDb: 0, mute: false, solo: false, pan: 0 });
  }

  /**
   * Put the pitch shifter (pitch-shift.js) between the master bus and the output:
   * master → shifter.input, shifter.output → out (→ destination and the master meter).
   */
  insertShifter(shifter) {
    if (this.shifter) return;
    this.shifter = shifter;
    this.master.disconnect(this.out);
    this.master.connect(shifter.input);
    shifter.output.connect(this.out);
  }

  get kinds() {
    return [...this.channels.keys()];
  }

  /** The node a stem's sources connect to. */
  input(kind) {
    return this.channel(kind).fader;
  }

  channel(kind) {
    const channel = this.channels.get(kind);
    if (!channel) throw new Error(`Unknown stem: ${kind}`);
    return channel;
  }

  setGainDb(kind, db) {
    const channel = this.channel(kind);
    channel.gainDb = clamp(db, this.ranges.gain_db.min, this.ranges.gain_db.max);
    this.ramp(channel.fader.gain, dbToGain(channel.gainDb));
  }

  setPan(kind, pan) {
    const channel = this.channel(kind);
    channel.pan = clamp(pan, this.ranges.pan.min, this.ranges.pan.max);
    this.ramp(channel.panner.pan, channel.pan);
  }

  setMute(kind, mute) {
    this.channel(kind).mute = Boolean(mute);
    this.applyGates();
  }

  setSolo(kind, solo) {
    this.channel(kind).solo = Boolean(solo);
    this.applyGates();
  }

  setMasterGainDb(db) {
    this.masterGainDb = clamp(db, this.ranges.gain_db.min, this.ranges.gain_db.max);
    this.ramp(this.master.gain, dbToGain(this.masterGainDb));
  }

  /** Whether a stem is heard: when any stem is soloed only soloed, unmuted stems play. */
  isAudible(kind) {
    const channel = this.channel(kind);
    if (channel.mute) return false;
    const anySolo = [...this.channels.values()].some((item) => item.solo);
    return anySolo ? channel.solo : true;
  }

  applyGates() {
    for (const [kind, channel] of this.channels) this.ramp(channel.gate.gain, this.isAudible(kind) ? 1 : 0);
  }

  ramp(param, value) {
    const now = this.context.currentTime;
    param.cancelScheduledValues(now);
    param.setTargetAtTime(value, now, SMOOTHING_S);
  }

  /** The linear peak of the last METER_WINDOW samples of the louder of two analysers. */
  peakOf(taps) {
    let peak = 0;
    const data = this.scratch;
    for (const analyser of taps) {
      analyser.getFloatTimeDomainData(data);
      for (let i = 0; i < data.length; i += 1) {
        const sample = data[i] < 0 ? -data[i] : data[i];
        if (sample > peak) peak = sample;
      }
    }
    return peak;
  }

  /** `{master: peak, stems: {kind: peak}}`: linear peaks of the last ~50 ms. */
  peakLevels() {
    const stems = {};
    for (const [kind, channel] of this.channels) stems[kind] = this.peakOf(channel.taps);
    return { master: this.peakOf(this.masterMeter.taps), stems };
  }

  /** The strips and master as the export API takes them (main.js adds tempo, key and loop). */
  settings() {
    const stems = {};
    for (const [kind, channel] of this.channels) {
      stems[kind] = { gain_db: channel.gainDb, mute: channel.mute, solo: channel.solo, pan: channel.pan };
    }
    return { master_gain_db: this.masterGainDb, stems };
  }
}
