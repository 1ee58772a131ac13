/**
 * One stem's waveform on a canvas, with the played part tinted and a playhead line.
 *
 * Peaks come from the API as `{"peaks_per_second", "duration_s", "peaks": [[min, max], ...]}`
 * (mono envelope, -1..1). The envelope is rendered once per canvas size into two offscreen
 * images (unplayed and played colours); each frame only blits them and draws the playhead.
 *
 * The canvas is the seek control too: click (or drag) to seek, and as a focusable
 * `role="slider"`: arrow keys step 5 s (1 s with Shift, as the page's own ← →), Home and End
 * jump to the ends.
 *
 * The envelope is drawn scaled by the stem's fader gain (`setGain`, linear: louder is
 * taller, and past the top it is cut, as the strip is hot), and the loop region
 * (`setLoop`) is shaded over it. Colours come from CSS on the canvas: `--wave-color`
 * (played part), drawn at `--wave-unplayed-alpha` for the part not yet played,
 * `--playhead`, `--loop-fill` / `--loop-fill-off` (the region while looping / switched off)
 * and `--loop-edge`. A stem that is not heard is dimmed by the stylesheet (data-audible).
 *
 * The song's beat grid (`setBeats`, from the analysis) is drawn behind the envelope: a thin
 * line per beat (`--beat-line`) and a stronger one per downbeat (`--downbeat-line`), rendered
 * once per canvas size into an offscreen layer of its own, like the envelope. Where they were
 * drawn is kept in `gridDrawn` (CSS px from the canvas's left; the debug handle reads it), and
 * the canvas's `data-beat-lines` says how many beat lines it shows.
 */

import { formatClock } from "../format.js";
import { gettext, interpolate } from "../i18n.js";
import { canvasFit, pointerFraction } from "./canvas.js";

const KEY_STEP_S = 5;
const KEY_FINE_STEP_S = 1;

/**
 * Min/max envelope of an AudioBuffer, for when the peaks file cannot be fetched.
 *
 * @param {AudioBuffer} buffer
 * @param {number} peaksPerSecond  the rate the server's peaks files use: `peaks_per_second`
 *   of the page's `data-mixer-ranges` (domain/mix.py `PEAKS_PER_SECOND`), so a waveform drawn
 *   from the audio looks like one drawn from the peaks file
 */
export function peaksFromBuffer(buffer, peaksPerSecond) {
  if (!(peaksPerSecond > 0)) throw new RangeError(`peaksPerSecond must be positive, got ${peaksPerSecond}`);
  const hop = Math.max(1, Math.round(buffer.sampleRate / peaksPerSecond));
  const channels = Array.from({ length: buffer.numberOfChannels }, (_, index) => buffer.getChannelData(index));
  const peaks = [];
  for (let start = 0; start < buffer.length; start += hop) {
    const end = Math.min(buffer.length, start + hop);
    let low = 0;
    let high = 0;
    for (let i = start; i < end; i += 1) {
      let sample = 0;
      for (const data of channels) sample += data[i];
      sample /= channels.length;
      if (sample < low) low = sample;
      if (sample > high) high = sample;
    }
    peaks.push([low, high]);
  }
  return { peaks_per_second: buffer.sampleRate / hop, duration_s: buffer.duration, peaks };
}

export class Waveform {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{onSeek: (seconds: number) => void, label?: string}} options
   */
  constructor(canvas, { onSeek, label = "Waveform" }) {
    this.canvas = canvas;
    this.onSeek = onSeek;
    this.label = label;
    this.peaks = null;
    this.duration = 0;
    this.position = 0;
    this.layers = null;
    this.dragging = false;
    this.gain = 1;
    /** @type {{start: number, end: number, enabled: boolean} | null} */
    this.loop = null;
    /** @type {{beats: number[], downbeats: number[]} | null} song seconds */
    this.beats = null;
    /** @type {{beats: number[], downbeats: number[], width: number} | null} CSS px, as drawn */
    this.gridDrawn = null;

    canvas.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || !this.duration) return;
      this.dragging = true;
      canvas.setPointerCapture(event.pointerId);
      this.seekToPointer(event);
    });
    canvas.addEventListener("pointermove", (event) => {
      if (this.dragging) this.seekToPointer(event);
    });
    const endDrag = () => {
      this.dragging = false;
    };
    canvas.addEventListener("pointerup", endDrag);
    canvas.addEventListener("pointercancel", endDrag);
    canvas.addEventListener("keydown", (event) => this.onKey(event));

    this.resizeObserver = new ResizeObserver(() => this.resize());
    // Sized (and first drawn) by the observer's first call, once the page is laid out:
    // measuring here would force a layout per canvas while the page is still being built.
    this.resizeObserver.observe(canvas);
  }

  /** @param {{peaks: number[][], peaks_per_second: number, duration_s?: number}} data */
  setPeaks(data) {
    this.peaks = data;
    this.layers = null;
    this.draw(this.position);
  }

  /** The timeline length shared by every stem (the longest stem). */
  setDuration(seconds) {
    this.duration = seconds;
    this.canvas.setAttribute("aria-valuemax", String(Math.ceil(seconds)));
    this.canvas.removeAttribute("aria-valuenow");
    this.layers = null;
    this.draw(this.position);
  }

  /** The stem's fader gain (linear): the envelope's height follows it. */
  setGain(gain) {
    if (gain === this.gain) return;
    this.gain = gain;
    this.draw(this.position);
  }

  /**
   * The beat grid, song seconds (null: none).
   *
   * @param {{beats: number[], downbeats: number[]} | null} grid
   */
  setBeats(grid) {
    this.beats = grid && Array.isArray(grid.beats) ? { beats: grid.beats, downbeats: grid.downbeats || [] } : null;
    this.layers = null;
    this.draw(this.position);
  }

  /** @param {{start: number, end: number, enabled: boolean} | null} loop  seconds */
  setLoop(loop) {
    this.loop = loop;
    this.draw(this.position);
  }

  resize() {
    if (canvasFit(this.canvas)) this.layers = null;
    this.draw(this.position);
  }

  seekToPointer(event) {
    this.onSeek(pointerFraction(this.canvas, event) * this.duration);
  }

  onKey(event) {
    if (!this.duration) return;
    const step = event.shiftKey ? KEY_FINE_STEP_S : KEY_STEP_S;
    const targets = {
      ArrowLeft: this.position - step,
      ArrowDown: this.position - step,
      ArrowRight: this.position + step,
      ArrowUp: this.position + step,
      PageDown: this.position - 10,
      PageUp: this.position + 10,
      Home: 0,
      End: this.duration,
    };
    if (!(event.key in targets)) return;
    event.preventDefault();
    this.onSeek(Math.min(this.duration, Math.max(0, targets[event.key])));
  }

  /** Render the envelope in both colours at the current canvas size. */
  renderLayers() {
    const { width, height } = this.canvas;
    const style = getComputedStyle(this.canvas);
    const colour = style.getPropertyValue("--wave-color").trim() || "#9aa3b2";
    const dim = Number.parseFloat(style.getPropertyValue("--wave-unplayed-alpha")) || 0.4;
    const make = (alpha) => {
      const layer = new OffscreenCanvas(width, height);
      const context = layer.getContext("2d");
      context.globalAlpha = alpha;
      this.drawEnvelope(context, width, height, colour);
      return layer;
    };
    this.layers = { unplayed: make(dim), played: make(1), grid: this.renderGrid(width, height, style) };
    this.playheadColour = style.getPropertyValue("--playhead").trim() || "#ffffff";
    this.loopColours = {
      on: style.getPropertyValue("--loop-fill").trim() || "rgba(90, 162, 255, 0.18)",
      off: style.getPropertyValue("--loop-fill-off").trim() || "rgba(153, 161, 176, 0.1)",
      edge: style.getPropertyValue("--loop-edge").trim() || "#5aa2ff",
    };
  }

  /** The beat lines at this size (null without a grid); notes where they went. */
  renderGrid(width, height, style) {
    this.gridDrawn = null;
    if (!this.beats || !this.duration) {
      delete this.canvas.dataset.beatLines;
      return null;
    }
    const ratio = window.devicePixelRatio || 1;
    const layer = new OffscreenCanvas(width, height);
    const context = layer.getContext("2d");
    const drawn = { beats: [], downbeats: [], width: width / ratio };
    const lines = (times, colour, thickness, into) => {
      context.fillStyle = colour;
      for (const time of times) {
        if (!(time >= 0 && time <= this.duration)) continue;
        const x = Math.min(width - thickness, Math.round((time / this.duration) * width));
        context.fillRect(x, 0, thickness, height);
        into.push(x / ratio);
      }
    };
    const thin = Math.max(1, Math.round(ratio));
    lines(this.beats.beats, style.getPropertyValue("--beat-line").trim() || "rgba(255, 255, 255, 0.07)", thin, drawn.beats);
    lines(
      this.beats.downbeats,
      style.getPropertyValue("--downbeat-line").trim() || "rgba(255, 255, 255, 0.2)",
      Math.max(1, Math.round(ratio * 1.5)),
      drawn.downbeats,
    );
    this.gridDrawn = drawn;
    this.canvas.dataset.beatLines = String(drawn.beats.length);
    return layer;
  }

  drawEnvelope(context, width, height, fill) {
    const middle = height / 2;
    context.fillStyle = fill;
    if (!this.peaks || !this.duration) {
      context.fillRect(0, middle - 0.5, width, 1);
      return;
    }
    const { peaks, peaks_per_second: perSecond } = this.peaks;
    const scale = middle * 0.92;
    for (let x = 0; x < width; x += 1) {
      const first = Math.floor(((x / width) * this.duration) * perSecond);
      const last = Math.max(first + 1, Math.floor((((x + 1) / width) * this.duration) * perSecond));
      let low = 0;
      let high = 0;
      for (let i = first; i < last && i < peaks.length; i += 1) {
        const [min, max] = peaks[i];
        if (min < low) low = min;
        if (max > high) high = max;
      }
      const top = middle - high * scale;
      const bottom = middle - low * scale;
      context.fillRect(x, top, 1, Math.max(1, bottom - top));
    }
  }

  /**
   * Draw the waveform with the playhead at `position` seconds. Called every animation frame
   * while playing: it repaints only when the playhead has moved to another pixel or
   * something else changed (a 3-min song moves a pixel every few frames).
   */
  draw(position) {
    this.position = position;
    const { width, height } = this.canvas;
    const x = this.duration ? Math.round((position / this.duration) * width) : 0;
    const looks = `${width}x${height}|${x}|${this.gain}|${this.layers ? "" : "new"}|${JSON.stringify(this.loop)}`;
    if (looks !== this.drawn) {
      this.paint(x);
      this.drawn = `${width}x${height}|${x}|${this.gain}||${JSON.stringify(this.loop)}`;
    }
    this.announce(position);
  }

  paint(x) {
    const { width, height } = this.canvas;
    const context = this.canvas.getContext("2d");
    if (!this.layers) this.renderLayers();
    context.clearRect(0, 0, width, height);
    if (this.loop && this.duration) this.drawLoop(context, width, height);
    if (this.layers.grid) context.drawImage(this.layers.grid, 0, 0);
    // The envelope at unity, stretched about the middle line by the fader's gain.
    const scaled = Math.max(1, height * Math.min(this.gain, 4));
    const top = (height - scaled) / 2;
    context.drawImage(this.layers.unplayed, 0, 0, width, height, 0, top, width, scaled);
    if (x > 0) context.drawImage(this.layers.played, 0, 0, x, height, 0, top, x, scaled);
    if (this.duration) {
      const ratio = window.devicePixelRatio || 1;
      context.fillStyle = this.playheadColour;
      context.fillRect(Math.min(width - ratio, x), 0, Math.max(1, Math.round(ratio * 1.5)), height);
    }
  }

  announce(position) {
    // Whole seconds only: a focused slider re-announces every change of its value.
    const now = String(Math.floor(position));
    if (this.canvas.getAttribute("aria-valuenow") !== now) {
      this.canvas.setAttribute("aria-valuenow", now);
      this.canvas.setAttribute(
        "aria-valuetext",
        interpolate(gettext("%(position)s of %(duration)s"), { position: formatClock(position), duration: formatClock(this.duration) }, true),
      );
    }
  }

  drawLoop(context, width, height) {
    const { start, end, enabled } = this.loop;
    const x0 = Math.round((start / this.duration) * width);
    const x1 = Math.max(x0 + 1, Math.round((end / this.duration) * width));
    context.fillStyle = enabled ? this.loopColours.on : this.loopColours.off;
    context.fillRect(x0, 0, x1 - x0, height);
    if (!enabled) return;
    const ratio = window.devicePixelRatio || 1;
    context.fillStyle = this.loopColours.edge;
    context.fillRect(x0, 0, Math.max(1, Math.round(ratio)), height);
    context.fillRect(x1 - Math.max(1, Math.round(ratio)), 0, Math.max(1, Math.round(ratio)), height);
  }
}
