/**
 * One stem's channel strip in the page: fader, meter, pan, mute, solo, waveform, download.
 *
 * Markup (templates/projects/detail.html), one `[data-stem=<kind>]` per stem (tabindex="0":
 * the strip takes the focus, for the M and S keys), with `data-stem-label` (its name),
 * `data-preview-url` (the compressed audio the page plays), `data-peaks-url` (its waveform
 * envelope) and, inside:
 *   [data-fader] holding input[data-control=gain]   see faders.js
 *   [data-meter]                                     see meters.js
 *   input[data-control=pan] with its <output for>    a plain range (double-click: centre)
 *   [data-action=mute|solo]                          <button aria-pressed>
 *   [data-waveform]                                  <canvas>, see waveform.js
 * Written here: `data-audible` "true" | "false" on the strip (the stylesheet dims it).
 */

import { describePan, formatDb, formatPan } from "../format.js";
import { dbToGain } from "./audio-graph.js";
import { Fader } from "./faders.js";
import { Meter } from "./meters.js";
import { Waveform } from "./waveform.js";

/**
 * Bind a range input to a setter: its "input" events apply the value and show it in its
 * `<output for=id>` or `[data-output-for=id]` (a fader's readout, inside a button whose name
 * it is part of) and as aria-valuetext. Returns `show(value)`, which puts a value on the
 * input and its text without calling `apply`.
 */
export function bindRange(root, input, apply, format, describe = format) {
  const id = input.id ? CSS.escape(input.id) : null;
  const output = id ? root.querySelector(`output[for="${id}"], [data-output-for="${id}"]`) : null;
  const show = (value) => {
    if (Number.parseFloat(input.value) !== value) input.value = String(value);
    if (output) output.textContent = format(value);
    input.setAttribute("aria-valuetext", describe(value));
  };
  input.addEventListener("input", () => {
    const value = Number.parseFloat(input.value);
    apply(value);
    show(value);
  });
  show(Number.parseFloat(input.value));
  return show;
}

export class StemStrip {
  /**
   * @param {HTMLElement} element  the [data-stem] element
   * @param {{graph: import("./audio-graph.js").AudioGraph, onSeek: (seconds: number) => void,
   *   onChange: () => void}} options  onChange: the user changed this strip
   */
  constructor(element, { graph, onSeek, onChange }) {
    this.element = element;
    this.kind = element.dataset.stem;
    this.label = element.dataset.stemLabel || this.kind;
    this.previewUrl = element.dataset.previewUrl;
    this.peaksUrl = element.dataset.peaksUrl;
    this.graph = graph;
    graph.addStem(this.kind);

    this.mute = element.querySelector('[data-action="mute"]');
    this.solo = element.querySelector('[data-action="solo"]');
    this.waveform = new Waveform(element.querySelector("[data-waveform]"), { label: this.label, onSeek });

    const gain = element.querySelector('[data-control="gain"]');
    this.fader = new Fader(gain.closest("[data-fader]"));
    this.showGain = bindRange(
      element,
      gain,
      (db) => {
        this.setGain(db);
        onChange();
      },
      formatDb,
    );
    const pan = element.querySelector('[data-control="pan"]');
    this.showPan = bindRange(
      element,
      pan,
      (value) => {
        graph.setPan(this.kind, value);
        onChange();
      },
      formatPan,
      describePan,
    );
    pan.addEventListener("dblclick", () => {
      pan.value = pan.defaultValue;
      pan.dispatchEvent(new Event("input", { bubbles: true }));
    });
    const meter = element.querySelector("[data-meter]");
    this.meter = meter ? new Meter(meter, { law: this.fader.law }) : null;

    this.mute.addEventListener("click", () => {
      this.toggleMute();
      onChange();
    });
    this.solo.addEventListener("click", () => {
      this.toggleSolo();
      onChange();
    });
  }

  setGain(db) {
    this.graph.setGainDb(this.kind, db);
    this.waveform.setGain(dbToGain(this.graph.channel(this.kind).gainDb));
  }

  toggleMute() {
    this.graph.setMute(this.kind, !this.graph.channel(this.kind).mute);
  }

  toggleSolo() {
    this.graph.setSolo(this.kind, !this.graph.channel(this.kind).solo);
  }

  /** Put a strip's settings (`{gain_db, mute, solo, pan}`, missing keys at rest) on graph and controls. */
  apply({ gain_db: gainDb = 0, mute = false, solo = false, pan = 0 } = {}) {
    this.setGain(Number(gainDb) || 0);
    this.graph.setPan(this.kind, Number(pan) || 0);
    this.graph.setMute(this.kind, mute === true);
    this.graph.setSolo(this.kind, solo === true);
    const channel = this.graph.channel(this.kind);
    this.showGain(channel.gainDb);
    this.fader.place();
    this.showPan(channel.pan);
  }

  /** Reflect mute/solo on the buttons and dim the strip when it is not heard. */
  showAudibility() {
    const channel = this.graph.channel(this.kind);
    this.mute.setAttribute("aria-pressed", String(channel.mute));
    this.solo.setAttribute("aria-pressed", String(channel.solo));
    this.element.dataset.audible = String(this.graph.isAudible(this.kind));
  }
}
