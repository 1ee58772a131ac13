/**
 * One stem's waveform on a canvas, with the played part tinted and a playhead line.
 *
 * Peaks come from the API as `{"peaks_per_second", "duration_s", "peaks": [[min, max], ...]}`
 * (mono envelope, -1..1). The envelope is rendered once per canvas size into two offscreen
 * images (unplayed and played colours); each frame only blits them and draws the playhead.
 *
 * The canvas is the seek control too: click (or drag) to seek, and as a focusable
 * `role="slider"`: arrow keys step 1 s (5 s with Shift), Home and End jump to the ends.
 * Colours come from CSS on the canvas: `--wave-color` (played part), drawn at
 * `--wave-unplayed-alpha` for the part not yet played, and `--playhead`.
 */

import { formatClock } from "../format.js";

const KEY_STEP_S = 1;
const KEY_BIG_STEP_S = 5;

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
    this.resizeObserver.observe(canvas);
    this.resize();
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

  resize() {
    const ratio = window.devicePixelRatio || 1;
    const rect = this.canvas.getBoundingClientRect();
    const width = Math.max(1, Math.round(rect.width * ratio));
    const height = Math.max(1, Math.round(rect.height * ratio));
    if (width !== this.canvas.width || height !== this.canvas.height) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.layers = null;
    }
    this.draw(this.position);
  }

  seekToPointer(event) {
    const rect = this.canvas.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
    this.onSeek(fraction * this.duration);
  }

  onKey(event) {
    if (!this.duration) return;
    const step = event.shiftKey ? KEY_BIG_STEP_S : KEY_STEP_S;
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
    this.layers = { unplayed: make(dim), played: make(1) };
    this.playheadColour = style.getPropertyValue("--playhead").trim() || "#ffffff";
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

  /** Draw the waveform with the playhead at `position` seconds. */
  draw(position) {
    this.position = position;
    const { width, height } = this.canvas;
    const context = this.canvas.getContext("2d");
    if (!this.layers) this.renderLayers();
    context.clearRect(0, 0, width, height);
    context.drawImage(this.layers.unplayed, 0, 0);
    const x = this.duration ? Math.round((position / this.duration) * width) : 0;
    if (x > 0) context.drawImage(this.layers.played, 0, 0, x, height, 0, 0, x, height);
    if (this.duration) {
      const ratio = window.devicePixelRatio || 1;
      context.fillStyle = this.playheadColour;
      context.fillRect(Math.min(width - ratio, x), 0, Math.max(1, Math.round(ratio * 1.5)), height);
    }
    // Whole seconds only: a focused slider re-announces every change of its value.
    const now = String(Math.floor(position));
    if (this.canvas.getAttribute("aria-valuenow") !== now) {
      this.canvas.setAttribute("aria-valuenow", now);
      this.canvas.setAttribute("aria-valuetext", `${formatClock(position)} of ${formatClock(this.duration)}`);
    }
  }
}
