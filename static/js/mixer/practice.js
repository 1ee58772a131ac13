/**
 * The practice controls in the transport: tempo (pitch kept) and key (transpose).
 *
 * Markup (templates/projects/detail.html), root `[data-practice]` with:
 *   input[type=range][data-control=tempo]      min/max/step: the served `tempo` range; value 1
 *   input[type=range][data-control=transpose]  the served `transpose` range (semitones); value 0
 *   [data-action=tempo-down|tempo-up|transpose-down|transpose-up]  one step either way
 *   [data-action=practice-reset]                tempo 1×, key 0
 *   <output for=...>                            the values as text
 *   [data-practice-note]                        why the controls are off (hidden otherwise)
 * Written here: `data-supported` "true" | "false" on the root.
 *
 * The controls only say what the user asked for (`onTempo`, `onTranspose`, `onReset`); the
 * page applies it (main.js: playbackRate and the pitch shifter) and shows the result back
 * with `show()`.
 */

import { formatSigned } from "../format.js";
import { gettext, interpolate, ngettext, pageLocale } from "../i18n.js";

/** "80%" (in the page's language). */
export function formatTempo(tempo) {
  return new Intl.NumberFormat(pageLocale(), { style: "percent", maximumFractionDigits: 0 }).format(tempo);
}

/** "+2", "0", "−3". */
export const formatSemitones = formatSigned;

function describeSemitones(semitones) {
  const count = Math.abs(semitones);
  if (semitones === 0) return gettext("original key");
  const text =
    semitones > 0
      ? ngettext("%(count)s semitone up", "%(count)s semitones up", count)
      : ngettext("%(count)s semitone down", "%(count)s semitones down", count);
  return interpolate(text, { count }, true);
}

export class PracticeControls {
  /**
   * @param {HTMLElement} root  the [data-practice] element
   * @param {{onTempo: (tempo: number) => void, onTranspose: (semitones: number) => void,
   *   onReset: () => void}} handlers
   */
  constructor(root, { onTempo, onTranspose, onReset }) {
    this.root = root;
    this.tempo = root.querySelector('[data-control="tempo"]');
    this.transpose = root.querySelector('[data-control="transpose"]');
    this.note = root.querySelector("[data-practice-note]");
    const output = (input) => root.querySelector(`output[for="${CSS.escape(input.id)}"]`);
    this.tempoOutput = output(this.tempo);
    this.transposeOutput = output(this.transpose);
    const step = (input) => Number.parseFloat(input.step) || 1;
    const value = (input) => Number.parseFloat(input.value);

    this.tempo.addEventListener("input", () => onTempo(value(this.tempo)));
    this.transpose.addEventListener("input", () => onTranspose(value(this.transpose)));
    this.tempo.addEventListener("dblclick", () => onTempo(1));
    this.transpose.addEventListener("dblclick", () => onTranspose(0));
    const buttons = {
      "tempo-down": () => onTempo(value(this.tempo) - step(this.tempo)),
      "tempo-up": () => onTempo(value(this.tempo) + step(this.tempo)),
      "transpose-down": () => onTranspose(value(this.transpose) - step(this.transpose)),
      "transpose-up": () => onTranspose(value(this.transpose) + step(this.transpose)),
      "practice-reset": () => onReset(),
    };
    for (const [action, handler] of Object.entries(buttons)) {
      const button = root.querySelector(`[data-action="${action}"]`);
      if (button) button.addEventListener("click", handler);
    }
    root.dataset.supported = "true";
    this.show({ tempo: 1, transpose: 0 });
  }

  /** Show the applied values. */
  show({ tempo, transpose }) {
    this.tempo.value = String(tempo);
    this.transpose.value = String(transpose);
    const tempoText = formatTempo(tempo);
    this.tempoOutput.textContent = tempoText;
    this.tempo.setAttribute(
      "aria-valuetext",
      tempo === 1 ? gettext("original tempo") : interpolate(gettext("%(tempo)s of the original tempo"), { tempo: tempoText }, true),
    );
    this.transposeOutput.textContent = formatSemitones(transpose);
    this.transpose.setAttribute("aria-valuetext", describeSemitones(transpose));
    this.root.dataset.changed = String(tempo !== 1 || transpose !== 0);
  }

  /** Turn the controls off, saying why (no AudioWorklet in this browser). */
  disable(message) {
    this.root.dataset.supported = "false";
    for (const control of this.root.querySelectorAll("input, button")) control.disabled = true;
    if (this.note) {
      this.note.textContent = message;
      this.note.hidden = false;
    }
  }
}
