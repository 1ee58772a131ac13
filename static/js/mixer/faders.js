/**
 * Long faders over the served dB range: a musician's fader law, a dB scale, a typed value,
 * and a double-click (double-tap) reset.
 *
 * Markup (templates/projects/detail.html), one root per fader:
 *   [data-fader]               root; `--pos` (0..1, the value's place on the travel) is
 *                              written here through the CSSOM for the stylesheet to place the cap
 *     [data-fader-scale]       empty, aria-hidden: filled here with one tick per
 *                              FADER_TICKS_DB inside the range (`--pos` on each tick)
 *     [data-fader-track]       the travel: pointer drags land here. CSS makes it tall
 *                              (vertical fader) or wide (horizontal); the longer side is the
 *                              direction of travel
 *       input[type=range]      the value, in dB (min/max/step: the served gain range); it
 *                              stays the accessible control (arrow keys step it; focus lands
 *                              on it) but is drawn invisible, since its own thumb would sit at
 *                              a linear place instead of the law's
 *       [data-fader-thumb]     the cap
 *     [data-fader-readout]     <button> holding the [data-output-for=input] dB text: click it to type
 *     [data-fader-entry]       <input type=text> shown while typing: Enter sets the value
 *                              (refused, aria-invalid, when it is not a number), Escape or
 *                              leaving it cancels
 *
 * Every change the fader makes is the input's own "input" event (bubbling), so whoever binds
 * the input (main.js) sees pointer, key, typed and reset changes the same way.
 *
 * Pointer: with a mouse or pen, pressing the cap grabs it where it is, pressing elsewhere on
 * the travel jumps there; then dragging moves it. With a finger the cap always moves by the
 * drag from where it was (a tap never jumps it, and a swipe that turns into a page scroll
 * puts it back). Double-click (mouse) or double-tap (touch) returns it to the markup's value.
 */

import { gettext, interpolate } from "../i18n.js";
import { MINUS, formatDb, formatSigned } from "../format.js";

/**
 * The fader law: (dB, place on the travel 0..1) points, linear in dB between them. The
 * −20…+6 dB where a mix is made takes 65 % of the travel; −60…−20 dB the bottom 35 %.
 */
export const FADER_LAW = Object.freeze([
  [-60, 0],
  [-40, 0.1],
  [-20, 0.35],
  [-12, 0.52],
  [-6, 0.68],
  [0, 0.84],
  [6, 1],
]);

/** Where the scale is marked (dB). */
export const FADER_TICKS_DB = Object.freeze([6, 0, -6, -12, -24, -40, -60]);

/** Two taps closer than this (ms, px) are a double-tap. */
const DOUBLE_TAP_MS = 350;
const DOUBLE_TAP_PX = 24;
/**
 * The law for a served range: FADER_LAW's inner points, with the ends at `min` and `max`.
 *
 * @param {number} min  dB at the bottom of the travel
 * @param {number} max  dB at the top
 * @returns {number[][]} ascending (dB, position) points from (min, 0) to (max, 1)
 */
export function faderLaw(min, max) {
  const inner = FADER_LAW.filter(([db]) => db > min && db < max);
  return [[min, 0], ...inner, [max, 1]];
}

/** The place (0..1) of `db` on the travel of `law` (clamped to its ends). */
export function dbToPosition(db, law) {
  if (!(db > law[0][0])) return 0;
  for (let i = 1; i < law.length; i += 1) {
    const [db1, p1] = law[i];
    if (db <= db1) {
      const [db0, p0] = law[i - 1];
      return p0 + ((db - db0) / (db1 - db0)) * (p1 - p0);
    }
  }
  return 1;
}

/** The level (dB) at place `position` (0..1) of the travel of `law` (clamped to its ends). */
export function positionToDb(position, law) {
  if (!(position > 0)) return law[0][0];
  for (let i = 1; i < law.length; i += 1) {
    const [db1, p1] = law[i];
    if (position <= p1) {
      const [db0, p0] = law[i - 1];
      return db0 + ((position - p0) / (p1 - p0)) * (db1 - db0);
    }
  }
  return law[law.length - 1][0];
}

/**
 * A typed level: "-3.5", "−3,5", "+2 dB", "0". Returns the number, or null for anything else.
 * (Range checks are the caller's: a typed "-80" is the bottom of the fader.)
 */
export function parseDb(text) {
  const value = String(text ?? "")
    .trim()
    .replace(/\s*db$/i, "")
    .replaceAll(MINUS, "-")
    .replace(",", ".");
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value)) return null;
  const number = Number.parseFloat(value);
  return Number.isFinite(number) ? number : null;
}

/** A tick label: "+6", "0", "−12". */
export class Fader {
  /** @param {HTMLElement} root  the [data-fader] element */
  constructor(root) {
    this.root = root;
    this.input = root.querySelector('input[type="range"]');
    this.track = root.querySelector("[data-fader-track]");
    this.thumb = root.querySelector("[data-fader-thumb]");
    this.readout = root.querySelector("[data-fader-readout]");
    this.entry = root.querySelector("[data-fader-entry]");
    this.min = Number.parseFloat(this.input.min);
    this.max = Number.parseFloat(this.input.max);
    this.step = Number.parseFloat(this.input.step) || 0;
    this.law = faderLaw(this.min, this.max);
    this.drag = null;
    this.lastTap = null;

    this.drawScale(root.querySelector("[data-fader-scale]"));
    this.input.addEventListener("input", () => this.place());
    this.track.addEventListener("pointerdown", (event) => this.onPointerDown(event));
    this.track.addEventListener("pointermove", (event) => this.onPointerMove(event));
    this.track.addEventListener("pointerup", (event) => this.onPointerUp(event));
    this.track.addEventListener("pointercancel", () => this.onPointerCancel());
    this.track.addEventListener("dblclick", (event) => {
      event.preventDefault();
      this.reset();
    });
    if (this.readout && this.entry) this.wireEntry();
    this.place();
  }

  get value() {
    return Number.parseFloat(this.input.value);
  }

  /** Set the value in dB (snapped to the step, clamped); `notify` fires the input's "input". */
  setValue(db, { notify = true } = {}) {
    const clamped = Math.min(this.max, Math.max(this.min, db));
    const snapped = this.step ? this.min + Math.round((clamped - this.min) / this.step) * this.step : clamped;
    const text = String(Number(snapped.toFixed(6)));
    if (text === this.input.value) {
      this.place();
      return;
    }
    this.input.value = text;
    this.place();
    if (notify) this.input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  /** Back to the markup's value (double-click, double-tap). */
  reset() {
    this.setValue(Number.parseFloat(this.input.defaultValue) || 0);
  }

  /** Put the cap at the law's place of the input's value. */
  place() {
    this.root.style.setProperty("--pos", dbToPosition(this.value, this.law).toFixed(4));
  }

  drawScale(scale) {
    if (!scale) return;
    scale.replaceChildren();
    for (const db of FADER_TICKS_DB) {
      if (db < this.min || db > this.max) continue;
      const tick = document.createElement("span");
      tick.className = "fader-tick";
      tick.dataset.db = String(db);
      tick.textContent = formatSigned(db);
      tick.style.setProperty("--pos", dbToPosition(db, this.law).toFixed(4));
      scale.append(tick);
    }
  }

  /** The pointer's place along the travel (0 bottom/left .. 1 top/right), unclamped. */
  pointerPosition(event) {
    const rect = this.track.getBoundingClientRect();
    if (rect.height > rect.width) return 1 - (event.clientY - rect.top) / rect.height;
    return (event.clientX - rect.left) / rect.width;
  }

  onPointerDown(event) {
    if (event.button !== 0) return;
    event.preventDefault();
    this.input.focus({ preventScroll: true });
    this.track.setPointerCapture(event.pointerId);
    const here = this.pointerPosition(event);
    const current = dbToPosition(this.value, this.law);
    const onCap = this.thumb && this.thumb.contains(event.target);
    const touch = event.pointerType === "touch";
    // A finger or the cap: move by the drag. Elsewhere with a mouse: jump to the pointer.
    const grab = touch || onCap ? here - current : 0;
    this.drag = { id: event.pointerId, grab, startValue: this.value, moved: false, x: event.clientX, y: event.clientY };
    this.root.dataset.dragging = "true";
    if (!grab) this.setValue(positionToDb(here, this.law));
  }

  onPointerMove(event) {
    if (!this.drag || event.pointerId !== this.drag.id) return;
    this.drag.moved = true;
    this.setValue(positionToDb(this.pointerPosition(event) - this.drag.grab, this.law));
  }

  onPointerUp(event) {
    if (!this.drag || event.pointerId !== this.drag.id) return;
    const { x, y } = this.drag;
    this.endDrag();
    if (event.pointerType !== "touch" && event.pointerType !== "pen") return;
    // Double-tap: touch browsers do not reliably send dblclick.
    const now = event.timeStamp;
    const last = this.lastTap;
    if (last && now - last.time < DOUBLE_TAP_MS && Math.hypot(x - last.x, y - last.y) < DOUBLE_TAP_PX) {
      this.lastTap = null;
      this.reset();
    } else {
      this.lastTap = { time: now, x, y };
    }
  }

  /** The browser took the gesture (a page scroll): put the value back. */
  onPointerCancel() {
    if (!this.drag) return;
    const { startValue } = this.drag;
    this.endDrag();
    this.setValue(startValue);
  }

  endDrag() {
    this.drag = null;
    delete this.root.dataset.dragging;
  }

  wireEntry() {
    const range = { min: formatDb(this.min), max: formatDb(this.max) };
    this.entry.title = interpolate(gettext("A level in dB, from %(min)s to %(max)s"), range, true);
    this.readout.addEventListener("click", () => this.openEntry());
    this.entry.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.commitEntry();
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.closeEntry();
      }
    });
    this.entry.addEventListener("input", () => this.entry.removeAttribute("aria-invalid"));
    this.entry.addEventListener("blur", () => {
      if (!this.entry.hidden) this.closeEntry({ focus: false });
    });
  }

  openEntry() {
    this.entry.value = String(Number(this.value.toFixed(2)));
    this.entry.removeAttribute("aria-invalid");
    this.readout.hidden = true;
    this.entry.hidden = false;
    this.entry.focus();
    this.entry.select();
  }

  commitEntry() {
    const db = parseDb(this.entry.value);
    if (db === null) {
      // Refused: the value stays as it was, and the text stays for the user to correct.
      this.entry.setAttribute("aria-invalid", "true");
      this.entry.select();
      return;
    }
    this.setValue(db);
    this.closeEntry();
  }

  closeEntry({ focus = true } = {}) {
    this.entry.hidden = true;
    this.entry.removeAttribute("aria-invalid");
    this.readout.hidden = false;
    if (focus) this.readout.focus();
  }
}
