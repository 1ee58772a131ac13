/**
 * Transport: play, pause, seek, loop and tempo for all stems together on one AudioContext clock.
 *
 * AudioBufferSourceNodes play once, so every start makes a fresh source per stem; all of
 * them are started with the same `start(t0, offset)`, the same `playbackRate` and the same
 * `loop`/`loopStart`/`loopEnd`, which keeps the stems sample-aligned, looping included (the
 * loop is the sources' own, not a timer's).
 *
 * The playhead is song time derived from the context clock, never from timers:
 *   song = offset + (currentTime − t0) × tempo, folded into [loop start, loop end) once it
 *   passes the loop's end while the loop is on,
 * and what is heard lags the sources by `outputDelay` seconds (the pitch shifter's fixed
 * latency), which `position` takes off. A change of tempo or loop starts a new clock segment
 * (`rebase`); the segments of the last second are kept, so the heard playhead, which is
 * still in the previous segment for `outputDelay` after a change, stays continuous.
 *
 * Tempo (`setTempo`) is every source's playbackRate: the song plays faster or slower and its
 * pitch moves with it; the pitch shifter after the master bus (pitch-shift.js, driven by
 * main.js) moves it back. Changes while playing apply to the running sources at once: the
 * clock reference is moved to now first (`rebase`), so the playhead stays continuous.
 *
 * Loop: `setLoop({start, end, enabled})` or `setLoop(null)`. While it is on, playback is kept
 * inside it: a start or seek at or past its end starts at its start; before its start, plays
 * into it and then loops.
 *
 * `play({at})` starts the sources at context time `at` rather than at once (the metronome's
 * count-in: the song then starts exactly on the bar's end); until then it is playing, and the
 * playhead waits at its start.
 *
 * Events (EventTarget): "statechange" when playing starts or stops, "seek" when the
 * position jumps, "ended" when the end of the song is reached.
 */

/** Lead time before the first sample: lets every start() be scheduled before t0 arrives. */
const START_LEAD_S = 0.06;
/** Clock segments kept after a change (s): longer than any output delay. */
const HISTORY_S = 1;

export class Transport extends EventTarget {
  /** @param {import("./audio-graph.js").AudioGraph} graph */
  constructor(graph) {
    super();
    this.graph = graph;
    this.context = graph.context;
    /** @type {Map<string, AudioBuffer>} */
    this.buffers = new Map();
    this.sources = [];
    this.duration = 0;
    this.loopLimit = 0;
    this.offset = 0;
    this.t0 = 0;
    this.tempo = 1;
    /** @type {{start: number, end: number, enabled: boolean} | null} */
    this.loop = null;
    this.outputDelay = 0;
    /** Earlier clock segments of this playback: `{t0, offset, tempo, loop}`, oldest first. */
    this.history = [];
    this.playing = false;
    this.starting = false;
  }

  /** @param {Map<string, AudioBuffer>} buffers  one decoded buffer per stem kind */
  setBuffers(buffers) {
    this.buffers = new Map(buffers);
    const durations = [...this.buffers.values()].map((buffer) => buffer.duration);
    this.duration = Math.max(0, ...durations);
    // A loop ends within every buffer: a source clamps its loopEnd to its own length, which
    // would put a shorter stem out of step.
    this.loopLimit = durations.length ? Math.min(...durations) : 0;
  }

  /** Whether the sources loop now. */
  get looping() {
    return Boolean(this.loop && this.loop.enabled);
  }

  /** Song time the sources are (or were) at, at context time `time`. */
  sourcePositionAt(time) {
    if (!this.playing) return this.offset;
    // The segment the time falls in: the current one, or one it replaced a moment ago.
    let segment = { t0: this.t0, offset: this.offset, tempo: this.tempo, loop: this.loop };
    for (let i = this.history.length - 1; i >= 0 && time < segment.t0; i -= 1) segment = this.history[i];
    const { t0, offset, tempo, loop } = segment;
    let song = offset + Math.max(0, time - t0) * tempo;
    if (loop && loop.enabled && offset < loop.end && song >= loop.end) {
      song = loop.start + ((song - loop.start) % (loop.end - loop.start));
    }
    return Math.min(this.duration, song);
  }

  /** Playhead in seconds of the song: what is heard now. */
  get position() {
    return this.sourcePositionAt(this.context.currentTime - this.outputDelay);
  }

  /**
   * @param {{at?: number | null}} [options]  at: context time for the first sample (no sooner
   *   than the usual lead time from now)
   */
  async play({ at = null } = {}) {
    if (this.playing || this.starting || !this.duration) return;
    this.starting = true;
    try {
      if (this.context.state !== "running") await this.context.resume();
    } finally {
      this.starting = false;
    }
    if (this.playing) return;
    if (this.offset >= this.duration) this.offset = 0;
    this.startSources(at);
    this.emit("statechange");
  }

  pause() {
    if (!this.playing) return;
    this.offset = this.position;
    this.stopSources();
    this.emit("statechange");
  }

  toggle() {
    return this.playing ? this.pause() : this.play();
  }

  /** Jump to `seconds` (clamped); playback continues from there if it was playing. */
  seek(seconds) {
    const target = Math.min(Math.max(0, seconds), this.duration);
    if (this.playing) {
      this.stopSources();
      this.offset = target;
      this.startSources();
    } else {
      this.offset = target;
    }
    this.emit("seek");
  }

  /** Playback speed, a factor of the song's (clamping is the caller's: the served range). */
  setTempo(tempo) {
    if (!(tempo > 0) || tempo === this.tempo) return;
    this.rebase();
    this.tempo = tempo;
    const now = this.context.currentTime;
    for (const source of this.sources) source.playbackRate.setValueAtTime(tempo, now);
  }

  /**
   * The loop region, in song seconds, or null. `enabled` false keeps the region without looping.
   *
   * @param {{start: number, end: number, enabled: boolean} | null} loop
   */
  setLoop(loop) {
    const end = loop ? Math.min(loop.end, this.loopLimit || loop.end) : 0;
    const next = loop && end > loop.start ? { start: loop.start, end, enabled: Boolean(loop.enabled) } : null;
    if (!this.playing) {
      this.loop = next;
      return;
    }
    this.rebase();
    this.loop = next;
    if (this.looping && this.offset >= this.loop.end) {
      // Past the new end while looping: start again at the loop's start.
      this.seek(this.loop.start);
      return;
    }
    for (const source of this.sources) this.applyLoop(source);
  }

  /** What is heard lags the sources by this much (s): the playhead takes it off. */
  setOutputDelay(seconds) {
    this.outputDelay = Math.max(0, seconds || 0);
  }

  /** Move the clock reference to now, so a change of tempo or loop keeps the playhead continuous. */
  rebase() {
    if (!this.playing) return;
    const now = this.context.currentTime;
    if (now <= this.t0) return; // not started yet: the reference is still ahead
    this.history.push({ t0: this.t0, offset: this.offset, tempo: this.tempo, loop: this.loop });
    while (this.history.length > 1 && this.history[1].t0 < now - HISTORY_S) this.history.shift();
    this.offset = this.sourcePositionAt(now);
    this.t0 = now;
  }

  /** Call once per animation frame: stops at the end of the song and rewinds. */
  tick() {
    if (this.playing && !this.looping && this.position >= this.duration) {
      this.stopSources();
      this.offset = 0;
      this.emit("ended");
      this.emit("statechange");
    }
  }

  applyLoop(source) {
    if (this.looping) {
      source.loopStart = this.loop.start;
      source.loopEnd = this.loop.end;
      source.loop = true;
    } else {
      source.loop = false;
    }
  }

  startSources(at = null) {
    if (this.looping && this.offset >= this.loop.end) this.offset = this.loop.start;
    const t0 = Math.max(this.context.currentTime + START_LEAD_S, Number.isFinite(at) ? at : 0);
    for (const [kind, buffer] of this.buffers) {
      if (this.offset >= buffer.duration) continue;
      const source = this.context.createBufferSource();
      source.buffer = buffer;
      source.playbackRate.value = this.tempo;
      this.applyLoop(source);
      source.connect(this.graph.input(kind));
      source.start(t0, this.offset);
      this.sources.push(source);
    }
    this.t0 = t0;
    this.history = [];
    this.playing = true;
  }

  stopSources() {
    for (const source of this.sources) {
      try {
        source.stop();
      } catch {
        // Already stopped.
      }
      source.disconnect();
    }
    this.sources = [];
    this.playing = false;
  }

  emit(type) {
    this.dispatchEvent(new Event(type));
  }
}
