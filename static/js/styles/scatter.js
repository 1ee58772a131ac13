/**
 * A style sound's grains as a scatter plot: pitch across (log f0, so that an octave is the same
 * width anywhere; grains without a pitch in a column of their own on the left), loudness up
 * (RMS in dB). Clicking a point plays that grain; so do the arrow keys and Enter.
 *
 * Markup (templates/styles/_scatter.html), one per sound:
 *   [data-scatter]          the <figure>; data-state is written here: idle | loading | ready |
 *                           empty (no grains) | error; data-playing: the grain playing, if any;
 *                           data-last-played: the last grain heard (kept after it ends)
 *   canvas[data-scatter-canvas]  sized by CSS, drawn at the device's pixel ratio; colours from
 *                           its CSS custom properties --point, --point-unvoiced, --point-active,
 *                           --grid and --label (static/css/remix.css)
 *   [data-scatter-readout]  role="status": the grain under the pointer or chosen, or the one playing
 * For tests and the console, the canvas's `grainPoints()` returns `[{i, x, y}]`: where each
 * grain was drawn, in CSS px from the canvas's top left corner.
 *
 * A grain is one element of the style API's `scatter`: `{"i", "f0_hz" (null: no pitch),
 * "rms_db", "start_s", "duration_s"}`; its audio is the grain URL `grainUrl(i)` gives.
 */

import { gettext, interpolate, ngettext, pageLocale } from "../i18n.js";
import { canvasFit } from "../mixer/canvas.js";
import { MINUS } from "../format.js";

/** Room for the loudness labels (left) and the pitch labels (bottom), CSS px. */
const PAD_LEFT = 34;
const PAD_BOTTOM = 18;
const PAD_TOP = 8;
const PAD_RIGHT = 10;
/** The column of grains without a pitch, and the gap after it (CSS px). */
const UNVOICED_WIDTH = 28;
const UNVOICED_GAP = 10;
const POINT_RADIUS = 3.5;
/** How far from a point a click still plays it (CSS px): a finger is wider than a mouse. */
const HIT_RADIUS_MOUSE = 10;
const HIT_RADIUS_TOUCH = 18;
/** The narrowest pitch span drawn (octaves) and the smallest loudness span (dB). */
const MIN_OCTAVES = 1;
const MIN_DB_SPAN = 12;
const DB_FLOOR = -96;
/** Pitch gridlines, in Hz: the ones inside the plotted span are drawn and labelled. */
const HZ_TICKS = [20, 30, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000];

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

function hasPitch(grain) {
  return Number.isFinite(grain.f0_hz) && grain.f0_hz > 0;
}

/** "220 Hz", "1.2 kHz" in the page's language. */
export function formatHz(hz) {
  const locale = pageLocale();
  if (hz >= 1000) {
    const khz = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(hz / 1000);
    return interpolate(gettext("%(value)s kHz"), { value: khz }, true);
  }
  return interpolate(gettext("%(value)s Hz"), { value: new Intl.NumberFormat(locale).format(Math.round(hz)) }, true);
}

function formatLevel(db) {
  const value = new Intl.NumberFormat(pageLocale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(
    Math.abs(db),
  );
  return `${db < 0 ? MINUS : ""}${value} dB`;
}

/**
 * One grain at a time, for the whole page: a new one stops the last.
 * `play(url, {onStart, onEnd})`: onStart once it is heard, onEnd when it ends or fails.
 */
export class GrainPlayer {
  constructor() {
    this.audio = new Audio();
    this.audio.preload = "auto";
    this.current = null;
    const finish = (failed) => {
      const current = this.current;
      this.current = null;
      if (current) current.onEnd(failed);
    };
    this.audio.addEventListener("playing", () => this.current?.onStart());
    this.audio.addEventListener("ended", () => finish(false));
    this.audio.addEventListener("error", () => finish(true));
  }

  play(url, { onStart = () => {}, onEnd = () => {} } = {}) {
    const previous = this.current;
    this.current = null;
    if (previous) previous.onEnd(false);
    this.current = { onStart, onEnd };
    this.audio.src = url;
    const started = this.audio.play();
    if (started && started.catch) {
      started.catch((error) => {
        // A newer grain took its place (AbortError): that one reports.
        if (error && error.name === "AbortError") return;
        if (this.current && this.current.onStart === onStart) {
          this.current = null;
          onEnd(true);
        }
      });
    }
  }
}

export class GrainScatter {
  /**
   * @param {HTMLElement} figure  the [data-scatter] element
   * @param {{grainUrl: (index: number) => string, player: GrainPlayer}} options
   */
  constructor(figure, { grainUrl, player }) {
    this.figure = figure;
    this.canvas = figure.querySelector("[data-scatter-canvas]");
    this.readout = figure.querySelector("[data-scatter-readout]");
    this.grainUrl = grainUrl;
    this.player = player;
    this.grains = [];
    /** The grains in the order the arrow keys walk them: across, then up. */
    this.order = [];
    this.placed = [];
    this.chosen = -1; // an index into this.order
    this.hover = null;
    this.playing = null;
    this.canvas.grainPoints = () => this.placed.map(({ i, x, y }) => ({ i, x, y }));
    this.canvas.addEventListener("click", (event) => this.onClick(event));
    this.canvas.addEventListener("pointermove", (event) => this.onHover(event));
    this.canvas.addEventListener("pointerleave", () => {
      this.hover = null;
      this.canvas.style.cursor = "";
      this.showReadout();
    });
    this.canvas.addEventListener("keydown", (event) => this.onKey(event));
    this.canvas.addEventListener("blur", () => this.draw());
    this.canvas.addEventListener("focus", () => this.draw());
    if ("ResizeObserver" in window) {
      this.resize = new ResizeObserver(() => this.draw());
      this.resize.observe(this.canvas);
    }
  }

  setState(state) {
    this.figure.dataset.state = state;
  }

  /** The grains to plot (the style API's `scatter`). */
  setGrains(grains) {
    this.grains = (Array.isArray(grains) ? grains : []).filter(
      (grain) => grain && Number.isInteger(grain.i) && Number.isFinite(grain.rms_db),
    );
    this.chosen = -1;
    this.hover = null;
    this.setState(this.grains.length ? "ready" : "empty");
    this.figure.dataset.points = String(this.grains.length);
    this.layout();
    this.draw();
    this.showReadout();
  }

  /** The plotted spans, from the grains: octaves of pitch across, dB up. */
  layout() {
    const voiced = this.grains.filter(hasPitch).map((grain) => Math.log2(grain.f0_hz));
    let low = voiced.length ? Math.min(...voiced) : Math.log2(100);
    let high = voiced.length ? Math.max(...voiced) : Math.log2(400);
    if (high - low < MIN_OCTAVES) {
      const middle = (low + high) / 2;
      low = middle - MIN_OCTAVES / 2;
      high = middle + MIN_OCTAVES / 2;
    }
    const margin = (high - low) * 0.06;
    this.octaves = { low: low - margin, high: high + margin };
    this.hasUnvoiced = this.grains.some((grain) => !hasPitch(grain));
    const levels = this.grains.map((grain) => grain.rms_db);
    // Whole 6 dB lines around the grains, with a little room above the loudest.
    let bottom = levels.length ? Math.floor(Math.min(...levels) / 6) * 6 : -48;
    const top = levels.length ? Math.ceil((Math.max(...levels) + 2) / 6) * 6 : 0;
    if (top - bottom < MIN_DB_SPAN) bottom = top - MIN_DB_SPAN;
    this.levels = { bottom: Math.max(DB_FLOOR, bottom), top };
    this.order = [...this.grains].sort((a, b) => this.sortKey(a) - this.sortKey(b) || a.rms_db - b.rms_db);
  }

  sortKey(grain) {
    return hasPitch(grain) ? Math.log2(grain.f0_hz) : -Infinity;
  }

  /** The plot's area in CSS px, and where a grain goes in it. */
  frame() {
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    const voicedLeft = PAD_LEFT + (this.hasUnvoiced ? UNVOICED_WIDTH + UNVOICED_GAP : 0);
    return { width, height, left: PAD_LEFT, voicedLeft, right: width - PAD_RIGHT, top: PAD_TOP, bottom: height - PAD_BOTTOM };
  }

  xOf(grain, frame) {
    if (!hasPitch(grain)) {
      // Spread across the column by loudness order, so that equal points do not hide each other.
      const jitter = ((grain.i * 0.618034) % 1) - 0.5;
      return frame.left + UNVOICED_WIDTH / 2 + jitter * (UNVOICED_WIDTH - 2 * POINT_RADIUS);
    }
    const { low, high } = this.octaves;
    const fraction = (Math.log2(grain.f0_hz) - low) / (high - low);
    return frame.voicedLeft + clamp(fraction, 0, 1) * (frame.right - frame.voicedLeft);
  }

  yOf(db, frame) {
    const { bottom, top } = this.levels;
    const fraction = (clamp(db, bottom, top) - bottom) / (top - bottom);
    return frame.bottom - fraction * (frame.bottom - frame.top);
  }

  draw() {
    if (this.figure.hidden || !this.canvas.isConnected || !this.levels) return;
    canvasFit(this.canvas);
    const context = this.canvas.getContext("2d");
    const ratio = window.devicePixelRatio || 1;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    const frame = this.frame();
    context.clearRect(0, 0, frame.width, frame.height);
    if (frame.width < 40 || frame.height < 40) return;
    const style = getComputedStyle(this.canvas);
    const colour = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
    const grid = colour("--grid", "rgba(255,255,255,0.08)");
    const label = colour("--label", "#99a1b0");
    context.font = `10px ${style.fontFamily || "sans-serif"}`;
    context.lineWidth = 1;

    // Loudness: a line every 6 or 12 dB, labelled on the left.
    const span = this.levels.top - this.levels.bottom;
    const step = span > 36 ? 12 : 6;
    context.textAlign = "right";
    context.textBaseline = "middle";
    for (let db = Math.ceil(this.levels.bottom / step) * step; db <= this.levels.top; db += step) {
      const y = Math.round(this.yOf(db, frame)) + 0.5;
      context.strokeStyle = grid;
      context.beginPath();
      context.moveTo(frame.left, y);
      context.lineTo(frame.right, y);
      context.stroke();
      context.fillStyle = label;
      context.fillText(db === 0 ? "0" : `${db < 0 ? MINUS : "+"}${Math.abs(db)}`, frame.left - 5, y);
    }
    // Pitch: lines at round frequencies, labelled below.
    context.textAlign = "center";
    context.textBaseline = "top";
    let lastLabel = -Infinity;
    for (const hz of HZ_TICKS) {
      const octave = Math.log2(hz);
      if (octave < this.octaves.low || octave > this.octaves.high) continue;
      const x = Math.round(this.xOf({ f0_hz: hz }, frame)) + 0.5;
      context.strokeStyle = grid;
      context.beginPath();
      context.moveTo(x, frame.top);
      context.lineTo(x, frame.bottom);
      context.stroke();
      if (x - lastLabel > 44) {
        context.fillStyle = label;
        context.fillText(hz >= 1000 ? `${hz / 1000}k` : String(hz), x, frame.bottom + 4);
        lastLabel = x;
      }
    }
    if (this.hasUnvoiced) {
      context.fillStyle = grid;
      context.fillRect(frame.left, frame.top, UNVOICED_WIDTH, frame.bottom - frame.top);
      context.fillStyle = label;
      context.fillText("—", frame.left + UNVOICED_WIDTH / 2, frame.bottom + 4);
    }

    // The grains.
    const point = colour("--point", "#5aa2ff");
    const unvoiced = colour("--point-unvoiced", "#ffb547");
    const active = colour("--point-active", "#ffffff");
    this.placed = this.grains.map((grain) => ({ i: grain.i, grain, x: this.xOf(grain, frame), y: this.yOf(grain.rms_db, frame) }));
    context.globalAlpha = 0.8;
    for (const { grain, x, y } of this.placed) {
      context.fillStyle = hasPitch(grain) ? point : unvoiced;
      context.beginPath();
      context.arc(x, y, POINT_RADIUS, 0, 2 * Math.PI);
      context.fill();
    }
    context.globalAlpha = 1;
    const marked = new Set([this.playing, this.hover?.i, this.chosenGrain()?.i].filter((i) => Number.isInteger(i)));
    for (const { i, x, y } of this.placed) {
      if (!marked.has(i)) continue;
      context.strokeStyle = active;
      context.lineWidth = 2;
      context.beginPath();
      context.arc(x, y, POINT_RADIUS + 3, 0, 2 * Math.PI);
      context.stroke();
    }
  }

  chosenGrain() {
    return this.chosen >= 0 ? this.order[this.chosen] : null;
  }

  /** The grain drawn nearest to a pointer, within reach of it (or null). */
  grainAt(event) {
    const rect = this.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    const reach = event.pointerType === "touch" || window.matchMedia("(pointer: coarse)").matches ? HIT_RADIUS_TOUCH : HIT_RADIUS_MOUSE;
    let best = null;
    let bestDistance = reach * reach;
    for (const placed of this.placed) {
      const distance = (placed.x - x) ** 2 + (placed.y - y) ** 2;
      if (distance <= bestDistance) {
        best = placed.grain;
        bestDistance = distance;
      }
    }
    return best;
  }

  onHover(event) {
    const grain = this.grainAt(event);
    if ((grain?.i ?? null) === (this.hover?.i ?? null)) return;
    this.hover = grain;
    this.canvas.style.cursor = grain ? "pointer" : "";
    this.showReadout();
    this.draw();
  }

  onClick(event) {
    const grain = this.grainAt(event);
    if (!grain) return;
    this.chosen = this.order.indexOf(grain);
    this.play(grain);
  }

  onKey(event) {
    if (!this.order.length) return;
    const last = this.order.length - 1;
    const moves = {
      ArrowRight: 1,
      ArrowUp: 1,
      ArrowLeft: -1,
      ArrowDown: -1,
    };
    if (event.key in moves) {
      this.chosen = this.chosen < 0 ? 0 : clamp(this.chosen + moves[event.key], 0, last);
    } else if (event.key === "Home") {
      this.chosen = 0;
    } else if (event.key === "End") {
      this.chosen = last;
    } else if (event.key === "Enter" || event.key === " ") {
      const grain = this.chosenGrain() || this.order[0];
      this.chosen = this.order.indexOf(grain);
      this.play(grain);
    } else {
      return;
    }
    event.preventDefault();
    this.showReadout();
    this.draw();
  }

  play(grain) {
    const index = grain.i;
    this.player.play(this.grainUrl(index), {
      onStart: () => {
        this.playing = index;
        this.figure.dataset.playing = String(index);
        this.figure.dataset.lastPlayed = String(index);
        this.showReadout();
        this.draw();
      },
      onEnd: (failed) => {
        if (this.playing === index) this.playing = null;
        if (this.figure.dataset.playing === String(index)) delete this.figure.dataset.playing;
        this.showReadout(failed ? gettext("That grain could not be played.") : null);
        this.draw();
      },
    });
  }

  describe(grain) {
    const pitch = hasPitch(grain) ? formatHz(grain.f0_hz) : gettext("no pitch");
    return interpolate(
      gettext("Grain %(number)s: %(pitch)s, %(level)s"),
      { number: grain.i + 1, pitch, level: formatLevel(grain.rms_db) },
      true,
    );
  }

  showReadout(message = null) {
    if (!this.readout) return;
    let text = "";
    if (message) {
      text = message;
    } else if (this.playing !== null) {
      const grain = this.grains.find((item) => item.i === this.playing);
      text = grain ? interpolate(gettext("Playing: %(grain)s"), { grain: this.describe(grain) }, true) : "";
    } else if (this.hover || this.chosenGrain()) {
      text = this.describe(this.hover || this.chosenGrain());
    } else if (this.grains.length) {
      text = interpolate(
        ngettext("%(count)s grain. Click it to hear it.", "%(count)s grains. Click one to hear it.", this.grains.length),
        { count: new Intl.NumberFormat(pageLocale()).format(this.grains.length) },
        true,
      );
    }
    if (this.readout.textContent !== text) this.readout.textContent = text;
  }
}
