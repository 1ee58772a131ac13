/**
 * The mixer's Web Audio graph: one channel strip per stem into a master bus.
 *
 *   source(s) → fader (gain dB) → gate (mute/solo, 0 or 1) → StereoPanner → master → out
 *
 * The settings kept here are the mixer state; `settings()` returns them in the export
 * payload's shape, so an export renders exactly what is heard.
 */

export const MIN_DB = -60;
export const MAX_DB = 6;
/** Time constant of parameter changes: short enough to feel instant, long enough not to click. */
const SMOOTHING_S = 0.012;

export function dbToGain(db) {
  return 10 ** (db / 20);
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

export class AudioGraph {
  /** @param {BaseAudioContext} context */
  constructor(context) {
    this.context = context;
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
    channel.gainDb = clamp(db, MIN_DB, MAX_DB);
    this.ramp(channel.fader.gain, dbToGain(channel.gainDb));
  }

  setPan(kind, pan) {
    const channel = this.channel(kind);
    channel.pan = clamp(pan, -1, 1);
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
    this.masterGainDb = clamp(db, MIN_DB, MAX_DB);
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
