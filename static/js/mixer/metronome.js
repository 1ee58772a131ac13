/**
 * The metronome: a click on every beat the analysis found (not a fixed tempo: the song's own
 * beat list, which may drift), the downbeats accented, and a one-bar count-in before Play.
 *
 * Two clocks: a timer on the page's clock (`setInterval`, every SCHEDULE_INTERVAL_MS) looks
 * ahead (LOOKAHEAD_S) and schedules the clicks that fall in that window on the audio
 * clock (`OscillatorNode.start(when)`), which is what keeps them exact; the timer's own jitter
 * only has to stay under the look-ahead. Where a click falls comes from the transport's clock
 * segments (transport.js), the same ones its playhead comes from: the beat at song time `s`
 * of a segment `{t0, offset, tempo}` is heard at context time
 *
 *   t0 + (s − offset) / tempo + outputDelay
 *
 * (`outputDelay`: the pitch shifter's latency, which the stems go through and the clicks do
 * not), and with the loop on, the beats inside it come round again on every pass. A seek, a
 * change of tempo or loop, Play or Pause changes the segments: the clicks not yet heard are
 * taken back and scheduled again from the new ones.
 *
 * The clicks go to the graph's output (`destination`: after the master bus and the pitch
 * shifter), never through the stems' strips: the export, rendered on the server, has none,
 * and a transpose does not re-pitch them. Their level is the metronome's own (`setGainDb`);
 * muted (the default) it schedules nothing.
 *
 * Count-in (`countInAt(start, tempoFactor)`): one bar of clicks (the meter's beats in a bar,
 * at the song's tempo × the tempo factor), from context time `start`; it returns when the bar
 * ends, which is when the caller has the song heard start (main.js starts the transport at
 * that time less the output delay). The count-in sounds even while the beat clicks are muted:
 * asking for it is asking to hear it. Pause or a seek before the bar ends takes it back.
 *
 * For tests and the console: `scheduled` (the beat clicks scheduled, `{time, song, accent}`,
 * context and song seconds, oldest first, those taken back removed) and `countIn`
 * (`{clicks: [time, ...], end}` of the last count-in, or null).
 */

import { dbToGain } from "./audio-graph.js";

/** How often the scheduler looks ahead (ms of the page's clock). */
const SCHEDULE_INTERVAL_MS = 25;
/**
 * How far ahead it schedules (s of the audio clock). Far more than the interval: a busy main
 * thread (a page redrawing its canvases on a loaded machine) was seen to run this timer 0.25 s
 * late, and a click whose time passed before it was scheduled is lost. Looking far ahead costs
 * nothing: every change of the transport takes back the clicks not yet heard.
 */
const LOOKAHEAD_S = 0.5;
/** A hidden tab's timers run once a second at best: look further ahead there. */
const HIDDEN_LOOKAHEAD_S = 2;
/** A click's length (s) and pitches (Hz): a downbeat higher than the other beats. */
const CLICK_S = 0.045;
const ACCENT_HZ = 1760;
const BEAT_HZ = 1175;
/** A beat within this of a downbeat (s) is that downbeat. */
const SAME_BEAT_S = 0.01;
/** Scheduled clicks kept for the debug handle. */
const LOG_MAX = 512;
/** A count-in with no meter nor downbeats to go by. */
const DEFAULT_BEATS_PER_BAR = 4;

/** The first index of sorted `values` at or past `value`. */
function lowerBound(values, value) {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (values[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

function median(values) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The grid the clicks follow: every beat (sorted, seconds), and whether each is a downbeat.
 *
 * @param {{beats?: number[], downbeats?: number[]}} analysis
 * @returns {{times: number[], accents: boolean[]}}
 */
export function clickGrid({ beats = [], downbeats = [] } = {}) {
  const downs = [...downbeats].filter(Number.isFinite).sort((a, b) => a - b);
  const all = [...beats].filter(Number.isFinite).sort((a, b) => a - b);
  // A downbeat the beat list lacks is still clicked.
  for (const down of downs) {
    const at = lowerBound(all, down - SAME_BEAT_S);
    if (!(at < all.length && Math.abs(all[at] - down) <= SAME_BEAT_S)) all.splice(at, 0, down);
  }
  const accents = all.map((time) => {
    const at = lowerBound(downs, time - SAME_BEAT_S);
    return at < downs.length && Math.abs(downs[at] - time) <= SAME_BEAT_S;
  });
  return { times: all, accents };
}

/**
 * Beats in a bar: the meter's top number ("3/4" → 3), or, without a meter, the usual count of
 * beats between the downbeats, or 4.
 *
 * @param {{time_signature?: string | null, beats?: number[], downbeats?: number[]}} analysis
 */
export function beatsPerBar({ time_signature: meter = null, beats = [], downbeats = [] } = {}) {
  const top = Number.parseInt(String(meter || "").split("/")[0], 10);
  if (top >= 1 && top <= 16) return top;
  const sorted = [...beats].sort((a, b) => a - b);
  const counts = [];
  for (let i = 1; i < downbeats.length; i += 1) {
    counts.push(lowerBound(sorted, downbeats[i] - SAME_BEAT_S) - lowerBound(sorted, downbeats[i - 1] - SAME_BEAT_S));
  }
  const count = Math.round(median(counts));
  return count >= 1 && count <= 16 ? count : DEFAULT_BEATS_PER_BAR;
}

/** Seconds between beats at the song's own tempo: its BPM, else the usual gap between beats. */
export function beatInterval({ tempo_bpm: bpm = null, beats = [] } = {}) {
  if (bpm > 0) return 60 / bpm;
  const sorted = [...beats].sort((a, b) => a - b);
  const gap = median(sorted.slice(1).map((time, i) => time - sorted[i]));
  return gap > 0 ? gap : 0.5;
}

/**
 * The clicks heard in the context-time window [from, to): for each clock segment of the
 * transport, the grid's beats the song passes in that window (looping included), at the time
 * they are heard.
 *
 * @param {{segments: {t0: number, offset: number, tempo: number,
 *   loop: {start: number, end: number, enabled: boolean} | null}[],
 *   outputDelay: number, from: number, to: number,
 *   grid: {times: number[], accents: boolean[]}, duration: number}} options
 *   segments: oldest first; each holds from its t0 (source time) to the next one's
 * @returns {{time: number, song: number, accent: boolean}[]} sorted by time
 */
export function clicksBetween({ segments, outputDelay, from, to, grid, duration }) {
  const clicks = [];
  const { times, accents } = grid;
  const add = (song, index, segment) => {
    const time = segment.t0 + (song - segment.offset) / segment.tempo + outputDelay;
    if (time >= from && time < to) clicks.push({ time, song: times[index], accent: accents[index] });
  };
  segments.forEach((segment, i) => {
    const next = segments[i + 1];
    // Source time: what the stems play; it is heard outputDelay later.
    const start = Math.max(from - outputDelay, segment.t0);
    const end = Math.min(to - outputDelay, next ? next.t0 : Number.POSITIVE_INFINITY);
    if (!(end > start) || !(segment.tempo > 0)) return;
    const songFrom = segment.offset + (start - segment.t0) * segment.tempo;
    const songTo = segment.offset + (end - segment.t0) * segment.tempo;
    const loop = segment.loop;
    const looping = Boolean(loop && loop.enabled && segment.offset < loop.end && loop.end > loop.start);
    // Straight through (up to the loop's end, while looping).
    const straightTo = Math.min(songTo, looping ? loop.end : duration);
    for (let k = lowerBound(times, songFrom); k < times.length && times[k] < straightTo; k += 1) {
      add(times[k], k, segment);
    }
    if (!looping || songTo <= loop.end) return;
    // Past the loop's end the song is folded back into it: a beat b inside the loop comes
    // again at b + n × length (n ≥ 1) of the unfolded song time.
    const length = loop.end - loop.start;
    const foldFrom = Math.max(songFrom, loop.end);
    const first = lowerBound(times, loop.start);
    const last = lowerBound(times, loop.end);
    for (let pass = Math.max(1, Math.floor((foldFrom - loop.end) / length)); ; pass += 1) {
      const base = pass * length;
      if (times[first] + base >= songTo || first >= last) break;
      for (let k = first; k < last; k += 1) {
        const unfolded = times[k] + base;
        if (unfolded >= foldFrom && unfolded < songTo) add(unfolded, k, segment);
      }
    }
  });
  return clicks.sort((a, b) => a.time - b.time);
}

export class Metronome {
  /**
   * @param {{context: BaseAudioContext, destination: AudioNode,
   *   transport: import("./transport.js").Transport}} options
   */
  constructor({ context, destination, transport }) {
    this.context = context;
    this.transport = transport;
    this.level = context.createGain();
    this.level.connect(destination);
    this.gainDb = -6;
    this.level.gain.value = dbToGain(this.gainDb);
    this.muted = true;
    this.countInEnabled = false;
    this.grid = { times: [], accents: [] };
    this.barBeats = DEFAULT_BEATS_PER_BAR;
    this.interval = 0.5;
    /** Beat clicks scheduled and not yet over: `{time, song, accent, node}`. */
    this.pending = [];
    /** The beat clicks scheduled, for the debug handle. */
    this.scheduled = [];
    /** @type {{clicks: number[], end: number, nodes: OscillatorNode[]} | null} */
    this.countInState = null;
    this.horizon = 0;
    this.signature = "";
    this.timer = null;
    transport.addEventListener("statechange", () => {
      if (!transport.playing) this.cancelCountIn();
      this.sync();
    });
    transport.addEventListener("seek", () => {
      this.cancelCountIn();
      this.sync();
    });
    document.addEventListener("visibilitychange", () => this.tick());
  }

  /** Whether there is a beat grid to follow. */
  get ready() {
    return this.grid.times.length > 1;
  }

  /** The last count-in, `{clicks, end}` (context seconds), or null. */
  get countIn() {
    const state = this.countInState;
    return state ? { clicks: [...state.clicks], end: state.end } : null;
  }

  /** Follow this analysis's beats (`{beats, downbeats, time_signature, tempo_bpm}`). */
  setGrid(analysis) {
    this.grid = clickGrid(analysis || {});
    this.barBeats = beatsPerBar(analysis || {});
    this.interval = beatInterval(analysis || {});
    this.resync();
  }

  setGainDb(db) {
    this.gainDb = db;
    const now = this.context.currentTime;
    this.level.gain.cancelScheduledValues(now);
    this.level.gain.setTargetAtTime(dbToGain(db), now, 0.012);
  }

  setMuted(muted) {
    this.muted = Boolean(muted);
    this.resync();
  }

  setCountIn(enabled) {
    this.countInEnabled = Boolean(enabled);
  }

  /**
   * One bar of clicks from context time `start`, at the song's tempo × `tempoFactor`; returns
   * the context time the bar ends (one beat after its last click).
   */
  countInAt(start, tempoFactor = 1) {
    this.cancelCountIn();
    const gap = this.interval / (tempoFactor > 0 ? tempoFactor : 1);
    const clicks = Array.from({ length: this.barBeats }, (_, beat) => start + beat * gap);
    const nodes = clicks.map((time, beat) => this.click(time, beat === 0));
    this.countInState = { clicks, end: start + this.barBeats * gap, nodes };
    return this.countInState.end;
  }

  /** Whether a count-in is still sounding at context time `time`. */
  countingIn(time = this.context.currentTime) {
    return Boolean(this.countInState && this.countInState.nodes.length && time < this.countInState.end);
  }

  cancelCountIn() {
    const state = this.countInState;
    if (!state) return;
    const now = this.context.currentTime;
    if (now < state.end) {
      for (const node of state.nodes) stopNode(node);
      state.nodes = [];
    }
  }

  /** The scheduler runs while the song plays and the clicks are on. */
  sync() {
    const run = this.transport.playing && !this.muted && this.ready;
    if (!run) {
      window.clearInterval(this.timer);
      this.timer = null;
      this.takeBack(this.context.currentTime);
      this.signature = "";
      return;
    }
    if (!this.timer) this.timer = window.setInterval(() => this.tick(), SCHEDULE_INTERVAL_MS);
    this.tick();
  }

  /** Schedule everything again from now (the grid or the mute changed). */
  resync() {
    this.signature = "";
    this.sync();
  }

  /** The transport's clock now, as a string: when it changes, what is scheduled is stale. */
  clockSignature() {
    const t = this.transport;
    return JSON.stringify([t.playing, t.t0, t.offset, t.tempo, t.loop, t.outputDelay, t.history.length]);
  }

  tick() {
    if (!this.timer) return;
    const now = this.context.currentTime;
    const signature = this.clockSignature();
    if (signature !== this.signature) {
      this.signature = signature;
      this.takeBack(now);
      this.horizon = now;
    }
    const lookahead = document.hidden ? HIDDEN_LOOKAHEAD_S : LOOKAHEAD_S;
    const from = Math.max(this.horizon, now);
    const to = now + lookahead;
    if (to <= from) return;
    const t = this.transport;
    const segments = [...t.history, { t0: t.t0, offset: t.offset, tempo: t.tempo, loop: t.loop }];
    const clicks = clicksBetween({
      segments,
      outputDelay: t.outputDelay,
      from,
      to,
      grid: this.grid,
      duration: t.duration,
    });
    for (const click of clicks) {
      const node = this.click(click.time, click.accent);
      const entry = { ...click, node };
      this.pending.push(entry);
      this.scheduled.push({ time: click.time, song: click.song, accent: click.accent });
      node.onended = () => {
        const index = this.pending.indexOf(entry);
        if (index >= 0) this.pending.splice(index, 1);
      };
    }
    if (this.scheduled.length > LOG_MAX) this.scheduled.splice(0, this.scheduled.length - LOG_MAX);
    this.horizon = to;
  }

  /** Take back the beat clicks not yet heard at context time `now`. */
  takeBack(now) {
    const keep = [];
    for (const entry of this.pending) {
      if (entry.time > now) {
        stopNode(entry.node);
        const index = this.scheduled.findIndex((item) => item.time === entry.time && item.song === entry.song);
        if (index >= 0) this.scheduled.splice(index, 1);
      } else {
        keep.push(entry);
      }
    }
    this.pending = keep;
  }

  /** One click at context time `time`: a short decaying tone, higher on a downbeat. */
  click(time, accent) {
    const context = this.context;
    const oscillator = context.createOscillator();
    const envelope = context.createGain();
    oscillator.frequency.value = accent ? ACCENT_HZ : BEAT_HZ;
    envelope.gain.setValueAtTime(0, time);
    envelope.gain.linearRampToValueAtTime(accent ? 1 : 0.6, time + 0.002);
    envelope.gain.exponentialRampToValueAtTime(0.001, time + CLICK_S);
    oscillator.connect(envelope).connect(this.level);
    oscillator.start(time);
    oscillator.stop(time + CLICK_S + 0.005);
    oscillator.addEventListener("ended", () => envelope.disconnect(), { once: true });
    return oscillator;
  }
}

function stopNode(node) {
  try {
    node.stop();
  } catch {
    // Over already.
  }
  node.disconnect();
}
