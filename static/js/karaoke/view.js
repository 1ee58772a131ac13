/**
 * The sing-along display: the line being sung, large, each of its words filling from left to
 * right from the word's start to its end; the next line smaller below; three countdown dots
 * before a line that follows a long gap (and before the first line).
 *
 * `render(t)` draws the song at time `t` (the transport's `position`, the mixer's audio clock:
 * index.js calls it once an animation frame while the song plays, and on a seek). What it shows
 * is `karaokeAt(lines, t)` (timing.js) and nothing else, so it cannot drift from the audio.
 * A word's fill is its `--fill` custom property (0..1; the stylesheet turns it into a gradient
 * clipped to the text), set through the CSSOM, which the page's CSP allows; a frame touches only
 * the word being sung, and rebuilds the lines only when the line changes.
 *
 * Written on the [data-karaoke-view] element, for the stylesheet and the tests:
 *   data-line, data-word   karaokeAt's indices (-1: none)
 *   data-countdown         the dots still shown (0..3)
 *   data-started           "true" once the line shown has started
 *   data-position          the song time (s, to the microsecond) of the last frame drawn
 * Each word is a span[data-word-index] with data-state "sung" | "singing" | "waiting".
 */

import { karaokeAt } from "./timing.js";

export class KaraokeView {
  /** @param {HTMLElement} element  the [data-karaoke-view] element */
  constructor(element) {
    this.element = element;
    this.lineBox = element.querySelector("[data-karaoke-line]");
    this.nextBox = element.querySelector("[data-karaoke-next]");
    this.dots = [...element.querySelectorAll("[data-karaoke-countdown] .karaoke-dot")];
    this.lines = [];
    this.language = "";
    this.shown = { line: -2, next: -2 }; // nothing built yet
    this.wordSpans = [];
    this.word = -1;
    this.fill = -1;
    this.countdown = -1;
  }

  /** New lyrics (the API's lines) in `language` ("en", "pt" or ""). */
  setLines(lines, language = "") {
    this.lines = lines;
    this.language = language === "pt" ? "pt-BR" : language;
    this.shown = { line: -2, next: -2 };
  }

  /** Draw the song at time `t` (s). */
  render(t) {
    const state = karaokeAt(this.lines, t);
    const el = this.element;
    if (state.line !== this.shown.line || state.next !== this.shown.next) this.build(state);
    this.paintWords(state);
    if (state.countdown !== this.countdown) {
      this.countdown = state.countdown;
      this.dots.forEach((dot, i) => dot.classList.toggle("is-on", i < state.countdown));
      el.dataset.countdown = String(state.countdown);
    }
    el.dataset.started = String(state.started);
    el.dataset.position = t.toFixed(6);
    return state;
  }

  build(state) {
    this.shown = { line: state.line, next: state.next };
    this.element.dataset.line = String(state.line);
    this.lineBox.lang = this.language;
    this.nextBox.lang = this.language;
    this.lineBox.replaceChildren();
    this.wordSpans = [];
    const line = this.lines[state.line];
    if (line) {
      line.words.forEach((word, index) => {
        if (index) this.lineBox.append(" ");
        const span = document.createElement("span");
        span.className = "karaoke-word";
        span.dataset.wordIndex = String(index);
        span.dataset.state = "waiting";
        span.textContent = word.word;
        span.style.setProperty("--fill", "0");
        this.lineBox.append(span);
        this.wordSpans.push(span);
      });
    }
    const next = this.lines[state.next];
    this.nextBox.textContent = next ? next.text : "";
    this.word = -2; // repaint every word of the new line
    this.fill = -1;
  }

  paintWords({ word, fill }) {
    if (word !== this.word) {
      // The line's words before the one being sung are full, those after it empty.
      this.wordSpans.forEach((span, index) => {
        const sung = index < word;
        const waiting = index > word;
        span.style.setProperty("--fill", sung ? "1" : waiting ? "0" : String(fill));
        span.dataset.state = sung ? "sung" : waiting ? "waiting" : "singing";
      });
      this.word = word;
      this.fill = fill;
      this.element.dataset.word = String(word);
      return;
    }
    const span = this.wordSpans[word];
    if (span && fill !== this.fill) {
      span.style.setProperty("--fill", fill.toFixed(4));
      this.fill = fill;
    }
  }
}
