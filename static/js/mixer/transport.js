/**
 * Transport: play, pause and seek all stems together on one AudioContext clock.
 *
 * AudioBufferSourceNodes play once, so every start makes a fresh source per stem; all of
 * them are started with the same `start(t0, offset)`, which keeps the stems sample-aligned.
 * The playhead position is derived from the context clock, never from timers.
 *
 * Events (EventTarget): "statechange" when playing starts or stops, "seek" when the
 * position jumps, "ended" when the end of the song is reached.
 */

/** Lead time before the first sample: lets every start() be scheduled before t0 arrives. */
const START_LEAD_S = 0.06;

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
    this.offset = 0;
    this.t0 = 0;
    this.playing = false;
    this.starting = false;
  }

  /** @param {Map<string, AudioBuffer>} buffers  one decoded buffer per stem kind */
  setBuffers(buffers) {
    this.buffers = new Map(buffers);
    this.duration = Math.max(0, ...[...this.buffers.values()].map((buffer) => buffer.duration));
  }

  /** Playhead in seconds. */
  get position() {
    if (!this.playing) return this.offset;
    const elapsed = Math.max(0, this.context.currentTime - this.t0);
    return Math.min(this.duration, this.offset + elapsed);
  }

  async play() {
    if (this.playing || this.starting || !this.duration) return;
    this.starting = true;
    try {
      if (this.context.state !== "running") await this.context.resume();
    } finally {
      this.starting = false;
    }
    if (this.playing) return;
    if (this.offset >= this.duration) this.offset = 0;
    this.startSources();
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

  /** Call once per animation frame: stops at the end of the song and rewinds. */
  tick() {
    if (this.playing && this.position >= this.duration) {
      this.stopSources();
      this.offset = 0;
      this.emit("ended");
      this.emit("statechange");
    }
  }

  startSources() {
    const t0 = this.context.currentTime + START_LEAD_S;
    for (const [kind, buffer] of this.buffers) {
      if (this.offset >= buffer.duration) continue;
      const source = this.context.createBufferSource();
      source.buffer = buffer;
      source.connect(this.graph.input(kind));
      source.start(t0, this.offset);
      this.sources.push(source);
    }
    this.t0 = t0;
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
