/**
 * The mixer's Web Audio graph: one channel strip per stem into a master bus.
 *
 *   source(s) → fader (gain dB) → gate (mute/solo, 0 or 1) → StereoPanner → master → out
 *
 * The settings kept here are the mixer state; `settings()` returns them in the export
 * payload's shape, so an export renders exactly what is heard.
 *
 * The ranges are not defined here: the page serves them (`data-mixer-ranges` on the mixer
 * root, from `domain/mix.py`'s `mixer_ranges()`, the same figures the export API validates
 * with), and the graph clamps every gain and pan to them, so the state it reports is one
 * the server accepts.
 */

/** Time constant of parameter changes: short enough to feel instant, long enough not to click. */
const SMOOTHING_S = 0.012;

export function dbToGain(db) {
  return 10 ** (db / 20);
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

/**
 * The served ranges, checked: `{"gain_db": {"min", "max", "step"}, "pan": {"min", "max",
 * "step"}, "peaks_per_second"}` (numbers, as `mixer_ranges()` in domain/mix.py writes them).
 *
 * @param {string | undefined} json  the mixer root's `data-mixer-ranges`
 * @returns {{gain_db: {min: number, max: number, step: number},
 *   pan: {min: number, max: number, step: number}, peaks_per_second: number}}
 * @throws {Error} when the attribute is missing or not of that shape
 */
export function parseMixerRanges(json) {
  let ranges;
  try {
    ranges = JSON.parse(json ?? "");
  } catch {
    throw new Error("the page has no mixer ranges (data-mixer-ranges)");
  }
  const isRange = (range) =>
    range && ["min", "max", "step"].every((key) => Number.isFinite(range[key])) && range.min < range.max && range.step > 0;
  if (!ranges || !isRange(ranges.gain_db) || !isRange(ranges.pan) || !(ranges.peaks_per_second > 0)) {
    throw new Error("the page's mixer ranges (data-mixer-ranges) are malformed");
  }
  return ranges;
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
    this.master.connect(context.destination);
    this.masterGainDb = 0;
    /** @type {Map<string, {fader: GainNode, gate: GainNode, panner: StereoPannerNode,
     *   gainDb: number, mute: boolean, solo: boolean, pan: number}>} */
    this.channels = new Map();
  }

  /** Create the channel strip for a stem (idempotent). */
  addStem(kind) {
    if (this.channels.has(kind)) return;
    const fader = this.context.createGain();
    const gate = this.context.createGain();
    const panner = this.context.createStereoPanner();
    fader.connect(gate).connect(panner).connect(this.master);
    this.channels.set(kind, { fader, gate, panner, gainDb: 0, mute: false, solo: false, pan: 0 });
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

  /** The mixer state as the export API takes it. */
  settings() {
    const stems = {};
    for (const [kind, channel] of this.channels) {
      stems[kind] = { gain_db: channel.gainDb, mute: channel.mute, solo: channel.solo, pan: channel.pan };
    }
    return { master_gain_db: this.masterGainDb, stems };
  }
}
