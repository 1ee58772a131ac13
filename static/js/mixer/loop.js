/**
 * The ruler above the waveforms: time ticks, the loop region, and the gestures that set it.
 *
 * Markup (templates/projects/detail.html): `[data-ruler]`, a <canvas> in the waveforms'
 * column (the same width and padding, so a time is at the same x on the ruler and on every
 * waveform). It is not focusable: the keys A, B and L (keyboard.js) do what it does.
 *
 * Gestures (pointer: mouse, pen or finger):
 *   - drag across it: a new loop region from where the press was to where it is let go
 *     (switched on); while it is dragged `onPreview(region)` draws it everywhere
 *   - drag an edge of the region (within EDGE_PX): move that edge
 *   - drag inside the region: move the whole region
 *   - a press let go where it was: seek there (`onSeek`)
 * A region shorter than `minLength` seconds is not made (the press is a seek instead).
 *
 * With the song's downbeats (`setBars`, from the analysis) it also marks each bar and numbers
 * them, every bar or every 2nd, 4th, ... so that the numbers stay BAR_LABEL_MIN_PX apart.
 *
 * Colours come from CSS on the canvas: `--tick`, `--tick-label`, `--loop-fill`,
 * `--loop-fill-off`, `--loop-edge`, `--playhead`, `--bar-line`, `--bar-label`.
 */

import { formatClock } from "../format.js";
import { canvasFit, pointerFraction } from "./canvas.js";

/** How close (CSS px) to an edge a press grabs the edge. */
const EDGE_PX = 8;
/** How far (CSS px) a press must move to be a drag rather than a click. */
const DRAG_PX = 4;
/** Tick spacings (s) to choose from: the smallest whose labels stay LABEL_MIN_PX apart. */
const TICK_STEPS_S = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
const LABEL_MIN_PX = 64;
/** Bar numbers are this far apart at least (CSS px): every bar, or every 2nd, 4th, 8th, ... */
const BAR_LABEL_MIN_PX = 28;

export class LoopRuler {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{onSeek: (seconds: number) => void,
   *   onLoop: (region: {start: number, end: number}) => void,
   *   onPreview: (region: {start: number, end: number, enabled: boolean} | null) => void,
   *   minLength: number}} options
   */
  constructor(canvas, { onSeek, onLoop, onPreview, minLength }) {
    this.canvas = canvas;
    this.onSeek = onSeek;
    this.onLoop = onLoop;
    this.onPreview = onPreview;
    this.minLength = minLength;
    this.duration = 0;
    this.position = 0;
    /** @type {{start: number, end: number, enabled: boolean} | null} */
    this.loop = null;
    this.gesture = null;
    this.colours = null;
    /** @type {number[]} the downbeats, song seconds */
    this.bars = [];

    canvas.addEventListener("pointerdown", (event) => this.onPointerDown(event));
    canvas.addEventListener("pointermove", (event) => this.onPointerMove(event));
    canvas.addEventListener("pointerup", (event) => this.onPointerUp(event));
    canvas.addEventListener("pointercancel", () => this.cancel());
    this.resizeObserver = new ResizeObserver(() => this.resize());
    // Sized (and first drawn) by the observer's first call, once the page is laid out:
    // measuring here would force a layout per canvas while the page is still being built.
    this.resizeObserver.observe(canvas);
  }

  setDuration(seconds) {
    this.duration = seconds;
    this.draw(this.position);
  }

  setLoop(loop) {
    this.loop = loop;
    this.draw(this.position);
  }

  /** @param {number[]} downbeats  the first beat of each bar, song seconds ([]: none) */
  setBars(downbeats) {
    this.bars = Array.isArray(downbeats) ? downbeats.filter((time) => Number.isFinite(time)) : [];
    this.drawn = null;
    this.draw(this.position);
  }

  resize() {
    canvasFit(this.canvas);
    this.colours = null;
    this.draw(this.position);
  }

  /** Song seconds under the pointer (clamped to the song). */
  timeAt(event) {
    return pointerFraction(this.canvas, event) * this.duration;
  }

  /** CSS px from the ruler's left of song time `seconds`. */
  xOf(seconds) {
    const rect = this.canvas.getBoundingClientRect();
    return this.duration ? (seconds / this.duration) * rect.width : 0;
  }

  onPointerDown(event) {
    if (event.button !== 0 || !this.duration) return;
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    const rect = this.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const at = this.timeAt(event);
    let mode = "new";
    if (this.loop) {
      const x0 = this.xOf(this.loop.start);
      const x1 = this.xOf(this.loop.end);
      if (Math.abs(x - x0) <= EDGE_PX && Math.abs(x - x0) <= Math.abs(x - x1)) mode = "start";
      else if (Math.abs(x - x1) <= EDGE_PX) mode = "end";
      else if (x > x0 && x < x1) mode = "move";
    }
    this.gesture = { id: event.pointerId, mode, x, at, moved: false, region: null };
  }

  onPointerMove(event) {
    const gesture = this.gesture;
    if (!gesture || event.pointerId !== gesture.id) return;
    const rect = this.canvas.getBoundingClientRect();
    if (!gesture.moved && Math.abs(event.clientX - rect.left - gesture.x) < DRAG_PX) return;
    gesture.moved = true;
    const at = this.timeAt(event);
    let start;
    let end;
    if (gesture.mode === "new") {
      [start, end] = [Math.min(gesture.at, at), Math.max(gesture.at, at)];
    } else if (gesture.mode === "move") {
      const length = this.loop.end - this.loop.start;
      start = Math.min(Math.max(0, this.loop.start + (at - gesture.at)), this.duration - length);
      end = start + length;
    } else {
      const fixed = gesture.mode === "start" ? this.loop.end : this.loop.start;
      [start, end] = [Math.min(fixed, at), Math.max(fixed, at)];
    }
    gesture.region = { start, end, enabled: true };
    this.draw(this.position);
    this.onPreview(gesture.region);
  }

  onPointerUp(event) {
    const gesture = this.gesture;
    if (!gesture || event.pointerId !== gesture.id) return;
    this.gesture = null;
    const region = gesture.region;
    if (gesture.moved && region && region.end - region.start >= this.minLength) {
      this.onLoop({ start: region.start, end: region.end });
      return;
    }
    this.onPreview(null);
    this.draw(this.position);
    if (!gesture.moved) this.onSeek(gesture.at);
  }

  cancel() {
    if (!this.gesture) return;
    this.gesture = null;
    this.onPreview(null);
    this.draw(this.position);
  }

  readColours() {
    const style = getComputedStyle(this.canvas);
    const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
    this.colours = {
      tick: read("--tick", "#3a4150"),
      label: read("--tick-label", "#99a1b0"),
      on: read("--loop-fill", "rgba(90, 162, 255, 0.28)"),
      off: read("--loop-fill-off", "rgba(153, 161, 176, 0.16)"),
      edge: read("--loop-edge", "#5aa2ff"),
      playhead: read("--playhead", "#ffffff"),
      bar: read("--bar-line", "rgba(90, 162, 255, 0.55)"),
      barLabel: read("--bar-label", "#7f8ba0"),
      barFont: `${Math.round(9 * (window.devicePixelRatio || 1))}px ${style.fontFamily}`,
      font: `${Math.round(11 * (window.devicePixelRatio || 1))}px ${style.fontFamily}`,
    };
  }

  /**
   * Draw ticks, the region (being dragged, or the mixer's) and the playhead at `position`;
   * only when one of them moved to another pixel (this runs every animation frame).
   */
  draw(position) {
    this.position = position;
    const { width, height } = this.canvas;
    const x = this.duration ? Math.round((position / this.duration) * width) : 0;
    const region = (this.gesture && this.gesture.region) || this.loop;
    const looks = `${width}x${height}|${this.duration}|${x}|${this.colours ? "" : "new"}|${JSON.stringify(region)}`;
    if (looks === this.drawn) return;
    this.paint(position, region);
    this.drawn = `${width}x${height}|${this.duration}|${x}||${JSON.stringify(region)}`;
  }

  paint(position, region) {
    const { width, height } = this.canvas;
    const context = this.canvas.getContext("2d");
    if (!this.colours) this.readColours();
    const colours = this.colours;
    const ratio = window.devicePixelRatio || 1;
    context.clearRect(0, 0, width, height);
    if (!this.duration) return;
    const pxPerSecond = width / this.duration;

    if (region) {
      const x0 = Math.round(region.start * pxPerSecond);
      const x1 = Math.max(x0 + 1, Math.round(region.end * pxPerSecond));
      context.fillStyle = region.enabled ? colours.on : colours.off;
      context.fillRect(x0, 0, x1 - x0, height);
      context.fillStyle = colours.edge;
      const edge = Math.max(2, Math.round(2 * ratio));
      context.fillRect(x0, 0, edge, height);
      context.fillRect(x1 - edge, 0, edge, height);
    }

    const step = TICK_STEPS_S.find((s) => s * (pxPerSecond / ratio) >= LABEL_MIN_PX) || TICK_STEPS_S.at(-1);
    const minor = step / 5;
    context.fillStyle = colours.tick;
    for (let t = 0; t <= this.duration + 1e-9; t += minor) {
      const x = Math.round(t * pxPerSecond);
      const major = Math.abs(t / step - Math.round(t / step)) < 1e-6;
      const tall = major ? height * 0.45 : height * 0.2;
      context.fillRect(x, height - tall, Math.max(1, Math.round(ratio)), tall);
    }
    context.fillStyle = colours.label;
    context.font = colours.font;
    context.textBaseline = "top";
    for (let t = 0; t <= this.duration - step * 0.5; t += step) {
      context.fillText(formatClock(t, { tenths: step < 1 }), Math.round(t * pxPerSecond) + 3 * ratio, 2 * ratio);
    }

    if (this.bars.length) this.paintBars(context, pxPerSecond, height, ratio);

    const x = Math.min(width - ratio, Math.round((position / this.duration) * width));
    context.fillStyle = colours.playhead;
    context.fillRect(x, 0, Math.max(1, Math.round(ratio * 1.5)), height);
  }

  /** A short mark at each bar's start and, spaced out, its number (1 is the first bar). */
  paintBars(context, pxPerSecond, height, ratio) {
    const colours = this.colours;
    context.fillStyle = colours.bar;
    const mark = Math.round(height * 0.22);
    for (const time of this.bars) {
      context.fillRect(Math.round(time * pxPerSecond), height - mark, Math.max(1, Math.round(ratio)), mark);
    }
    const spacing = this.bars.length > 1 ? ((this.bars.at(-1) - this.bars[0]) / (this.bars.length - 1)) * pxPerSecond : 0;
    let every = 1;
    while (spacing > 0 && spacing * every < BAR_LABEL_MIN_PX * ratio && every < this.bars.length) every *= 2;
    context.fillStyle = colours.barLabel;
    context.font = colours.barFont;
    context.textBaseline = "bottom";
    for (let index = 0; index < this.bars.length; index += every) {
      context.fillText(String(index + 1), Math.round(this.bars[index] * pxPerSecond) + 2 * ratio, height - mark);
    }
  }
}
