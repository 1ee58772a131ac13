/**
 * The mixer's keyboard: one listener on the document, and the shortcuts sheet.
 *
 *   Space          play / pause, wherever the focus is (a focused Mute or Solo button
 *                  included: Space does not press it again; Enter still does)
 *   ← / →          seek 5 s back / forward (with Shift: 1 s); Home: to the start
 *   M / S          mute / solo the stem strip that has the focus; 1–6 focus a strip
 *   L              loop on / off; A / B: loop start / end at the playhead
 *   [ / ]          tempo − / + one step; - / + (or =): key down / up a semitone;
 *                  0: tempo and key back to the original
 *   ?              open the shortcuts sheet (Esc closes it)
 *
 * None of them fire while typing (a text field, a text area, something editable), with
 * Ctrl, Alt or Meta held, or while a modal dialog (the sheet) is open. The arrow keys and
 * Home are left to the control that has the focus when it uses them itself (a fader, a
 * select, radio buttons, a waveform: `role="slider"`).
 *
 * Markup: `[data-shortcuts-dialog]`, a <dialog> with a `[data-action=close-shortcuts]`
 * button; `[data-action=shortcuts]` buttons open it. Stem strips are `[data-stem]`
 * elements with tabindex="0" (the "focused strip" is the one holding the focus).
 */

/** Input types that are typed into (every other input type is a button, range, box...). */
const TEXT_INPUT_TYPES = new Set(["text", "search", "email", "url", "tel", "password", "number", "date", "time",
  "datetime-local", "month", "week"]); // fmt: skip

/** Whether keys pressed in `target` are text being typed. */
export function isTextEntry(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return true;
  return target instanceof HTMLInputElement && TEXT_INPUT_TYPES.has(target.type);
}

/** Whether `target` uses the arrow keys and Home itself. */
function usesArrows(target) {
  if (!(target instanceof Element)) return false;
  if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement) return true;
  return Boolean(target.closest('[role="slider"], [role="listbox"], [role="radiogroup"], [role="menu"], [role="tablist"]'));
}

export class Shortcuts {
  /**
   * @param {HTMLElement} root  the mixer root: its [data-stem] strips are the ones focused
   * @param {object} actions  callbacks: togglePlay(), seekBy(seconds), seekTo(seconds),
   *   toggleMute(kind), toggleSolo(kind), toggleLoop(), loopStartHere(), loopEndHere(),
   *   tempoStep(direction), transposeStep(direction), resetPractice()
   */
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    this.dialog = root.querySelector("[data-shortcuts-dialog]");
    this.enabled = false;
    document.addEventListener("keydown", (event) => this.onKeyDown(event));
    // A focused button is pressed by Space on key *up*: keep that from happening too.
    document.addEventListener("keyup", (event) => {
      if (event.key === " " && this.handles(event)) event.preventDefault();
    });
    for (const button of root.querySelectorAll('[data-action="shortcuts"]')) {
      button.addEventListener("click", () => this.open());
    }
    if (this.dialog) {
      for (const button of this.dialog.querySelectorAll('[data-action="close-shortcuts"]')) {
        button.addEventListener("click", () => this.dialog.close());
      }
      // A click on the backdrop (outside the sheet's box) closes it too.
      this.dialog.addEventListener("click", (event) => {
        if (event.target === this.dialog) this.dialog.close();
      });
    }
  }

  open() {
    if (this.dialog && !this.dialog.open) this.dialog.showModal();
  }

  /** Whether a key event is the mixer's to handle at all. */
  handles(event) {
    if (!this.enabled || event.ctrlKey || event.metaKey || event.altKey) return false;
    if (isTextEntry(event.target)) return false;
    // The sheet, or any other dialog of the page: its own keys are its own.
    return !document.querySelector("dialog[open]");
  }

  /** The stem strip holding the focus, or null. */
  focusedStem(target) {
    const strip = target instanceof Element ? target.closest("[data-stem]") : null;
    return strip && this.root.contains(strip) ? strip.dataset.stem : null;
  }

  onKeyDown(event) {
    if (!this.handles(event)) return;
    const { key, target } = event;
    const a = this.actions;
    const stem = this.focusedStem(target);
    const arrowsFree = !usesArrows(target);
    let handler = null;
    switch (key) {
      case " ":
        handler = event.repeat ? () => {} : () => a.togglePlay();
        break;
      case "ArrowLeft":
      case "ArrowRight":
        if (arrowsFree) handler = () => a.seekBy((key === "ArrowLeft" ? -1 : 1) * (event.shiftKey ? 1 : 5));
        break;
      case "Home":
        if (arrowsFree) handler = () => a.seekTo(0);
        break;
      case "[":
      case "]":
        handler = () => a.tempoStep(key === "[" ? -1 : 1);
        break;
      case "-":
      case "+":
      case "=":
        handler = () => a.transposeStep(key === "-" ? -1 : 1);
        break;
      case "0":
        handler = () => a.resetPractice();
        break;
      case "?":
        handler = () => this.open();
        break;
      default:
        handler = this.letterOrDigit(key.length === 1 ? key.toLowerCase() : "", stem);
    }
    if (!handler) return;
    event.preventDefault();
    handler();
  }

  letterOrDigit(key, stem) {
    const a = this.actions;
    if (key === "m" && stem) return () => a.toggleMute(stem);
    if (key === "s" && stem) return () => a.toggleSolo(stem);
    if (key === "l") return () => a.toggleLoop();
    if (key === "a") return () => a.loopStartHere();
    if (key === "b") return () => a.loopEndHere();
    if (/^[1-6]$/.test(key)) {
      const strip = this.root.querySelectorAll("[data-stem]")[Number(key) - 1];
      if (strip) return () => strip.focus();
    }
    return null;
  }
}
