/**
 * Level meters: the peak of what a strip (or the master) plays, with fall-off, a peak-hold
 * line and, on the master, a clip latch.
 *
 * Markup (templates/projects/detail.html):
 *   [data-meter]       root, aria-hidden (the numbers are in `levels()` for tests and the
 *                      bench; a screen reader has the faders' values); `data-hot` "true"
 *                      while the peak is at or over 0 dBFS. Vertical when taller than wide.
 *     .meter-cover     hides the part of the bar above the level: its `transform` is
 *                      written here (scaleY / scaleX), the level a place 0..1 on the fader
 *                      law's scale, so the bar reads against the fader's ticks
 *     .meter-hold      the peak-hold line: its `transform` is written here (translate)
 * Only transforms change per frame (their own compositor layers, `will-change`): no style
 * recalculation, layout or paint of the page while the meters move.
 *   [data-clip]        <button> (the master's): `aria-pressed` and `data-clipped` "true" once
 *                      a peak reached 0 dBFS (full scale, 1.0), until the button is clicked
 *
 * The peaks themselves are read by audio-graph.js (`peakLevels()`); `update(peak, time)`
 * takes one linear peak per animation frame.
 */

import { dbToPosition } from "./faders.js";
import { gettext } from "../i18n.js";

/** How fast the bar falls after a peak (dB per second): a PPM-like ballistics. */
const FALL_DB_PER_S = 24;
/** How long the hold line stays at a peak before it falls too (ms). */
const HOLD_MS = 1200;
/** The bottom of the meter (dB): quieter reads as nothing. */
const FLOOR_DB = -60;
/** Full scale: a sample at or past 1.0 clips the output. */
export const CLIP_PEAK = 1;

export function gainToDb(gain) {
  return gain > 0 ? 20 * Math.log10(gain) : -Infinity;
}

export class Meter {
  /**
   * @param {HTMLElement} element  the [data-meter] root
   * @param {{law: number[][], clip?: HTMLButtonElement|null}} options
   *   law: the faders' law (faders.js `faderLaw`), clip: the latch button, if any
   */
  constructor(element, { law, clip = null }) {
    this.element = element;
    this.law = law;
    this.clip = clip;
    this.levelDb = FLOOR_DB;
    this.holdDb = FLOOR_DB;
    this.holdUntil = 0;
    this.lastTime = 0;
    this.clipped = false;
    this.cover = element.querySelector(".meter-cover");
    this.holdLine = element.querySelector(".meter-hold");
    this.shown = { level: -1, hold: -1, hot: null };
    this.size = { width: 0, height: 0 };
    new ResizeObserver(([entry]) => {
      this.size = { width: entry.contentRect.width, height: entry.contentRect.height };
      this.shown.level = -1;
      this.shown.hold = -1;
      this.render();
    }).observe(element);
    if (clip) {
      clip.addEventListener("click", () => this.clearClip());
      this.showClip();
    }
    this.render();
  }

  /**
   * One reading.
   *
   * @param {number} peak  linear peak (≥ 0) of the last ~50 ms
   * @param {number} time  ms (performance.now() or a frame time), for the fall-off
   */
  update(peak, time) {
    const db = Math.max(FLOOR_DB, gainToDb(peak));
    const elapsed = this.lastTime ? Math.max(0, time - this.lastTime) / 1000 : 0;
    this.lastTime = time;
    const fallen = this.levelDb - FALL_DB_PER_S * elapsed;
    this.levelDb = Math.max(db, fallen, FLOOR_DB);
    if (db >= this.holdDb) {
      this.holdDb = db;
      this.holdUntil = time + HOLD_MS;
    } else if (time > this.holdUntil) {
      this.holdDb = Math.max(db, this.holdDb - FALL_DB_PER_S * elapsed);
    }
    this.hot = peak >= CLIP_PEAK;
    if (this.hot) this.latch();
    this.render();
  }

  /** Let go of a stopped signal at once (pause): the bar does not fall from a stale peak. */
  silence() {
    this.levelDb = FLOOR_DB;
    this.holdDb = FLOOR_DB;
    this.hot = false;
    this.lastTime = 0;
    this.render();
  }

  latch() {
    if (this.clipped || !this.clip) return;
    this.clipped = true;
    this.showClip();
  }

  clearClip() {
    this.clipped = false;
    this.showClip();
  }

  showClip() {
    if (!this.clip) return;
    this.clip.dataset.clipped = String(this.clipped);
    this.clip.setAttribute("aria-pressed", String(this.clipped));
    this.clip.title = this.clipped
      ? gettext("The output clipped (a peak reached 0 dBFS). Click to clear.")
      : gettext("Clip indicator: lights when the output reaches 0 dBFS");
  }

  /** The level shown, a place 0..1 on the scale (tests read it). */
  get position() {
    return this.shown.level;
  }

  render() {
    const level = this.levelDb <= FLOOR_DB ? 0 : dbToPosition(this.levelDb, this.law);
    const hold = this.holdDb <= FLOOR_DB ? 0 : dbToPosition(this.holdDb, this.law);
    const hot = Boolean(this.hot);
    const { width, height } = this.size;
    const vertical = height > width;
    // Only what moved by half a pixel or more: most frames of a quiet strip change nothing.
    const pixel = 0.5 / Math.max(1, vertical ? height : width);
    if (this.cover && Math.abs(level - this.shown.level) >= pixel) {
      const rest = (1 - level).toFixed(4);
      this.cover.style.transform = vertical ? `scaleY(${rest})` : `scaleX(${rest})`;
      this.shown.level = level;
    }
    if (this.holdLine && Math.abs(hold - this.shown.hold) >= pixel) {
      this.holdLine.style.transform = vertical
        ? `translateY(${(-hold * height).toFixed(1)}px)`
        : `translateX(${(hold * width).toFixed(1)}px)`;
      this.shown.hold = hold;
    }
    if (hot !== this.shown.hot) {
      this.element.dataset.hot = String(hot);
      this.shown.hot = hot;
    }
  }
}
