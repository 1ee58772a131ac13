/**
 * The lyrics editor: the lines as a list (the one being sung highlighted; a line's time plays
 * from there), a word fixed in place (click it: an input, Enter saves, Esc cancels), a line split
 * at its selected word or merged with the next, the selected line or word nudged by 0.05 s (keys
 * and buttons) or its start dragged on a small timeline, and tap-to-sync. Edits stay in this
 * page (edits.js makes each one) until Save → PATCH with the version they were made from; a 409
 * says a newer version exists and offers to load it. The versions menu restores an old version
 * (GET ?version=N, then PATCH its lines); the links download the lyrics as files.
 *
 * Markup: [data-karaoke-editor] (templates/projects/_karaoke.html) with
 *   [data-karaoke-lines] (an <ol>, filled here), [data-karaoke-timeline], [data-karaoke-selected],
 *   buttons [data-action=line-earlier|line-later|word-earlier|word-later|split|merge|tap-mode|
 *   tap|save|discard|reload|restore], [data-karaoke-tap-hint], [data-karaoke-editor-status],
 *   [data-karaoke-conflict], select[data-karaoke-versions], a[data-karaoke-download=<format>].
 * The timeline's data-window-start / data-window-end: the song seconds it spans.
 * Rows: li[data-index] with aria-current="true" on the line being sung and data-selected on the
 * selected one; its button[data-action=seek-line] and one button[data-word-index] per word.
 *
 * Keys, while the focus is in the editor and not in a text field (the mixer's own [ and ] — its
 * tempo — give way there: they are stopped before they reach keyboard.js's document listener):
 *   [ / ]   the selected line 0.05 s earlier / later     , / .   its selected word
 *   T       in tap-to-sync mode, anywhere on the page: the tap line starts now
 */

import { errorMessage } from "../api.js";
import { gettext, interpolate, pageLocale } from "../i18n.js";
import { isTextEntry } from "../mixer/keyboard.js";
import {
  NUDGE_S,
  lineMoved,
  lineNudged,
  lineSplit,
  linesBody,
  linesMerged,
  wordFixed,
  wordNudged,
} from "./edits.js";
import { downloadUrl, lyricsEdit, lyricsGet } from "./lyrics-api.js";
import { lastStarted } from "./timing.js";

/** The timeline shows this much of the song around the selected line's start (s): before, after. */
const TIMELINE_BEFORE_S = 4;
const TIMELINE_AFTER_S = 6;

/** A time as the editor shows it: m:ss.cc (a nudge is 0.05 s: tenths would hide it). */
export function formatTime(seconds) {
  const centis = Math.round(Math.max(0, seconds) * 100);
  const minutes = Math.floor(centis / 6000);
  const rest = centis - minutes * 6000;
  return `${minutes}:${String(Math.floor(rest / 100)).padStart(2, "0")}.${String(rest % 100).padStart(2, "0")}`;
}

function sourceLabel(source) {
  if (source === "transcribed") return gettext("transcribed");
  if (source === "aligned") return gettext("your words, aligned");
  if (source === "edited") return gettext("edited");
  return source;
}

export class LyricsEditor {
  /**
   * @param {HTMLElement} element  the [data-karaoke-editor] element
   * @param {object} options
   * @param {string} options.url                      the lyrics API
   * @param {object} options.transport                the mixer's Transport (position, playing, duration)
   * @param {(seconds: number) => void} options.onSeek
   * @param {(lines: object[]) => void} options.onChange   the working copy changed (the view shows it)
   * @param {(body: object) => void} options.onSaved       a PATCH answered: the new lyrics body
   * @param {() => void} options.onReload                  load the newest version, dropping the edits
   */
  constructor(element, { url, transport, onSeek, onChange, onSaved, onReload }) {
    this.element = element;
    this.url = url;
    this.transport = transport;
    this.onSeek = onSeek;
    this.onChange = onChange;
    this.onSaved = onSaved;
    this.onReload = onReload;
    this.list = element.querySelector("[data-karaoke-lines]");
    this.timeline = element.querySelector("[data-karaoke-timeline]");
    this.selectedText = element.querySelector("[data-karaoke-selected]");
    this.status = element.querySelector("[data-karaoke-editor-status]");
    this.conflict = element.querySelector("[data-karaoke-conflict]");
    this.versionsSelect = element.querySelector("[data-karaoke-versions]");
    this.tapHint = element.querySelector("[data-karaoke-tap-hint]");
    this.button = (action) => element.querySelector(`[data-action="${action}"]`);

    this.lines = [];
    this.savedJson = "[]";
    this.version = 0;
    this.versions = [];
    this.language = "";
    this.selected = { line: -1, word: -1 };
    this.editing = null;
    this.playing = -1;
    this.tapMode = false;
    this.tapLine = 0;
    this.busy = false;
    this.drag = null;

    const on = (action, handler) => this.button(action)?.addEventListener("click", handler);
    on("line-earlier", () => this.nudgeLine(-NUDGE_S));
    on("line-later", () => this.nudgeLine(NUDGE_S));
    on("word-earlier", () => this.nudgeWord(-NUDGE_S));
    on("word-later", () => this.nudgeWord(NUDGE_S));
    on("split", () => this.split());
    on("merge", () => this.merge());
    on("tap-mode", () => this.setTapMode(!this.tapMode));
    on("tap", () => this.tap());
    on("save", () => this.save());
    on("discard", () => this.discard());
    on("reload", () => this.onReload());
    on("restore", () => this.restore());
    this.list.addEventListener("click", (event) => this.onListClick(event));
    element.addEventListener("keydown", (event) => this.onKeyDown(event));
    this.onDocumentKey = (event) => this.onTapKey(event);
    document.addEventListener("keydown", this.onDocumentKey);
    this.timeline.addEventListener("pointerdown", (event) => this.onPointerDown(event));
    this.timeline.addEventListener("pointermove", (event) => this.onPointerMove(event));
    this.timeline.addEventListener("pointerup", (event) => this.onPointerUp(event));
    this.timeline.addEventListener("pointercancel", (event) => this.onPointerUp(event));
    this.timeline.addEventListener("keydown", (event) => this.onTimelineKey(event));
    for (const link of element.querySelectorAll("[data-karaoke-download]")) {
      link.href = downloadUrl(url, link.dataset.karaokeDownload);
    }
    this.renderAll();
  }

  destroy() {
    document.removeEventListener("keydown", this.onDocumentKey);
  }

  get durationS() {
    return this.transport.duration > 0 ? this.transport.duration : Number.POSITIVE_INFINITY;
  }

  /** Whether there are edits not saved. */
  get dirty() {
    return JSON.stringify(linesBody(this.lines)) !== this.savedJson;
  }

  /**
   * The lyrics from the server (a GET or a PATCH's body). Edits not saved are kept unless `force`:
   * a job that finished meanwhile only changes the newest version known (a save then says so).
   */
  load(body, { force = false } = {}) {
    this.versions = Array.isArray(body.versions) ? body.versions : [];
    const lines = linesBody(body.lines || []);
    const same = JSON.stringify(lines) === this.savedJson && (body.version || 0) === this.version;
    // A word being typed, a marker being dragged or edits not saved are the user's: kept. The
    // same lines again (a poll while a job runs) are not redrawn, so the focus stays put.
    if (!force && (same || this.dirty || this.editing || this.drag)) {
      this.renderVersions();
      return;
    }
    this.version = body.version || 0;
    this.language = body.language || "";
    this.lines = lines;
    this.savedJson = JSON.stringify(this.lines);
    if (this.selected.line >= this.lines.length) this.selected = { line: -1, word: -1 };
    this.conflict.hidden = true;
    this.editing = null;
    this.renderAll();
    this.onChange(this.lines);
  }

  /** The song is at `t` (s): the line being sung is highlighted, the timeline's playhead moves. */
  setPosition(t) {
    const index = lastStarted(this.lines, t);
    if (index !== this.playing) {
      this.list.querySelector(`[data-index="${this.playing}"]`)?.removeAttribute("aria-current");
      this.list.querySelector(`[data-index="${index}"]`)?.setAttribute("aria-current", "true");
      this.playing = index;
    }
    const head = this.timeline.querySelector(".karaoke-playhead");
    if (head && this.window) {
      const x = (t - this.window.start) / (this.window.end - this.window.start);
      head.hidden = x < 0 || x > 1;
      head.style.setProperty("--x", String(Math.min(1, Math.max(0, x))));
    }
  }

  // ---------------------------------------------------------------- edits

  /** Put `lines` in as the working copy, selecting `select`, and show it all. */
  change(lines, select = this.selected, focus = null) {
    this.lines = lines;
    this.selected = select;
    this.conflict.hidden = true;
    this.renderAll(focus);
    this.onChange(this.lines);
  }

  selectedLine() {
    const index = this.selected.line;
    if (index < 0 || index >= this.lines.length) {
      this.say(gettext("Select a line first: click its time or one of its words."));
      return -1;
    }
    return index;
  }

  nudgeLine(delta) {
    const index = this.selectedLine();
    if (index < 0) return;
    this.change(lineNudged(this.lines, index, delta, { durationS: this.durationS }), this.selected, "keep");
  }

  nudgeWord(delta) {
    const index = this.selectedLine();
    if (index < 0) return;
    const word = this.selected.word;
    if (word < 0 || word >= this.lines[index].words.length) {
      this.say(gettext("Select a word first: click it."));
      return;
    }
    this.change(wordNudged(this.lines, index, word, delta, { durationS: this.durationS }), this.selected, "keep");
  }

  split() {
    const index = this.selectedLine();
    if (index < 0) return;
    const lines = lineSplit(this.lines, index, this.selected.word);
    if (!lines) {
      this.say(gettext("Select the word the new line starts with (not the line's first word)."));
      return;
    }
    // Usually the line after; a line that overlapped the next (backing vocals) may sort later.
    const first = this.lines[index].words[this.selected.word];
    const found = lines.findIndex(
      (line, i) => i > index && line.words[0].start === first.start && line.words[0].word === first.word,
    );
    const second = found >= 0 ? found : index + 1;
    this.change(lines, { line: second, word: 0 }, { line: second, kind: "time" });
    this.say(gettext("The line was split in two."));
  }

  merge() {
    const index = this.selectedLine();
    if (index < 0) return;
    const lines = linesMerged(this.lines, index);
    if (!lines) {
      this.say(gettext("The last line has no next line to merge with."));
      return;
    }
    this.change(lines, { line: index, word: -1 }, { line: index, kind: "time" });
    this.say(gettext("The two lines are one now."));
  }

  fixWord(index, word, typed) {
    const lines = wordFixed(this.lines, index, word, typed);
    this.editing = null;
    if (!lines) {
      if (!typed.trim()) this.say(gettext("A line keeps at least one word: merge it with another line instead."));
      this.renderAll({ line: index, word, kind: "word" });
      return;
    }
    const kept = Math.min(word, lines[index].words.length - 1);
    this.change(lines, { line: index, word: kept }, { line: index, word: kept, kind: "word" });
  }

  setTapMode(on) {
    this.tapMode = on;
    if (on) this.tapLine = this.selected.line >= 0 ? this.selected.line : 0;
    this.renderTap();
  }

  /** Tap-to-sync: the tap line starts at the audio position now (its words with it); the next is up. */
  tap() {
    if (!this.tapMode || !this.lines.length) return;
    if (!this.transport.playing) {
      this.say(gettext("Play the song, then tap as each line starts."));
      return;
    }
    const index = Math.min(this.tapLine, this.lines.length - 1);
    const at = this.transport.position;
    const lines = lineMoved(this.lines, index, at, { durationS: this.durationS, push: true });
    this.tapLine = index + 1;
    this.change(lines, { line: index, word: -1 }, "keep");
    if (this.tapLine >= this.lines.length) {
      this.setTapMode(false);
      this.say(gettext("Every line is synced. Save to keep it."));
    }
  }

  discard() {
    this.lines = JSON.parse(this.savedJson);
    this.editing = null;
    this.conflict.hidden = true;
    this.renderAll();
    this.onChange(this.lines);
    this.say(gettext("Your changes were discarded."));
  }

  async save() {
    if (this.busy || !this.dirty) return;
    await this.patch(linesBody(this.lines), gettext("Saving…"));
  }

  async restore() {
    const number = Number(this.versionsSelect.value);
    if (!number || this.busy) return;
    if (this.dirty) {
      this.say(gettext("Save or discard your changes first."));
      return;
    }
    if (number === this.version) {
      this.say(gettext("This is the version shown."));
      return;
    }
    this.setBusy(true);
    let old;
    try {
      old = await lyricsGet(this.url, { version: number });
    } catch (error) {
      this.setBusy(false);
      this.say(errorMessage(error));
      return;
    }
    this.setBusy(false);
    const saying = interpolate(gettext("Restoring version %(number)s…"), { number }, true);
    await this.patch(linesBody(old.lines || []), saying);
  }

  async patch(lines, progressText) {
    this.setBusy(true);
    this.say(progressText);
    try {
      const body = await lyricsEdit(this.url, { lines, version: this.version });
      this.load(body, { force: true });
      this.onSaved(body);
      this.say(interpolate(gettext("Saved as version %(number)s."), { number: body.version }, true));
    } catch (error) {
      if (error.status === 409 || error.code === "lyrics_conflict") {
        this.conflict.hidden = false;
        this.say("");
      } else {
        this.say(errorMessage(error));
      }
    } finally {
      this.setBusy(false);
      this.renderSave();
    }
  }

  setBusy(busy) {
    this.busy = busy;
    this.element.setAttribute("aria-busy", String(busy));
    this.renderSave();
  }

  say(text) {
    this.status.textContent = text;
  }

  // ---------------------------------------------------------------- input

  onListClick(event) {
    const target = event.target instanceof Element ? event.target : null;
    const row = target?.closest("[data-index]");
    if (!row || target.closest("input")) return;
    const index = Number(row.dataset.index);
    const wordButton = target.closest("[data-word-index]");
    if (wordButton) {
      const word = Number(wordButton.dataset.wordIndex);
      this.selected = { line: index, word };
      if (this.tapMode) this.tapLine = index;
      this.openWord(index, word);
      return;
    }
    if (target.closest('[data-action="seek-line"]')) {
      this.selected = { line: index, word: this.selected.line === index ? this.selected.word : -1 };
      if (this.tapMode) this.tapLine = index;
      this.renderAll({ line: index, kind: "time" });
      this.onSeek(this.lines[index].start);
    }
  }

  openWord(index, word) {
    this.editing = { line: index, word };
    this.renderAll();
    const input = this.list.querySelector(`[data-index="${index}"] input[data-word-input]`);
    if (!input) return;
    input.focus();
    input.select();
    let done = false;
    const finish = (save) => {
      if (done) return;
      done = true;
      if (save) this.fixWord(index, word, input.value);
      else {
        this.editing = null;
        this.renderAll({ line: index, word, kind: "word" });
      }
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        finish(true);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        finish(false);
      }
    });
    input.addEventListener("blur", () => finish(true));
  }

  onKeyDown(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isTextEntry(event.target)) return;
    const actions = {
      "[": () => this.nudgeLine(-NUDGE_S),
      "]": () => this.nudgeLine(NUDGE_S),
      ",": () => this.nudgeWord(-NUDGE_S),
      ".": () => this.nudgeWord(NUDGE_S),
    };
    const action = actions[event.key];
    if (!action) return;
    // Ours here: the mixer's [ and ] (tempo) must not also fire.
    event.preventDefault();
    event.stopPropagation();
    action();
  }

  onTapKey(event) {
    if (!this.tapMode || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key !== "t" && event.key !== "T") return;
    // Not while typing, in a dialog, or with the editor out of sight (hidden, or its panel closed).
    if (isTextEntry(event.target) || document.querySelector("dialog[open]") || this.element.closest("[hidden]")) return;
    event.preventDefault();
    this.tap();
  }

  onTimelineKey(event) {
    if (!event.target.closest('[role="slider"]')) return;
    const step = { ArrowLeft: -NUDGE_S, ArrowDown: -NUDGE_S, ArrowRight: NUDGE_S, ArrowUp: NUDGE_S }[event.key];
    if (!step) return;
    event.preventDefault();
    this.nudgeLine(step);
  }

  timeAt(clientX) {
    const box = this.timeline.getBoundingClientRect();
    const { start, end } = this.drag.window;
    return start + ((clientX - box.left) / Math.max(1, box.width)) * (end - start);
  }

  onPointerDown(event) {
    const mark = event.target instanceof Element ? event.target.closest(".karaoke-mark") : null;
    if (!mark) return;
    const index = Number(mark.dataset.index);
    if (index !== this.selected.line) {
      this.selected = { line: index, word: -1 };
      this.renderAll({ line: index, kind: "mark" });
      return;
    }
    event.preventDefault();
    this.drag = { index, window: this.window, from: this.lines, grab: 0 };
    this.drag.grab = this.lines[index].start - this.timeAt(event.clientX);
    this.timeline.setPointerCapture(event.pointerId);
  }

  onPointerMove(event) {
    if (!this.drag) return;
    const { index, from, grab } = this.drag;
    this.lines = lineMoved(from, index, this.timeAt(event.clientX) + grab, { durationS: this.durationS });
    this.renderTimeline(this.drag.window);
    this.renderSelected();
  }

  onPointerUp(event) {
    if (!this.drag) return;
    if (this.timeline.hasPointerCapture(event.pointerId)) this.timeline.releasePointerCapture(event.pointerId);
    this.drag = null;
    this.change(this.lines, this.selected, { line: this.selected.line, kind: "mark" });
  }

  // ---------------------------------------------------------------- drawing

  renderAll(focus = null) {
    const active = document.activeElement;
    const keep = focus === "keep" && active && this.element.contains(active) ? active.dataset : null;
    this.renderList();
    this.renderTimeline();
    this.renderSelected();
    this.renderTap();
    this.renderSave();
    this.renderVersions();
    for (const link of this.element.querySelectorAll("[data-karaoke-download]")) {
      link.hidden = !this.lines.length;
    }
    if (keep) this.refocus(keep);
    else if (focus && focus !== "keep") this.focusOn(focus);
  }

  /** Give the focus back to the control like the one that had it before a redraw. */
  refocus(dataset) {
    if (dataset.action) {
      const same = dataset.action === "seek-line" ? `[data-index="${this.selected.line}"] ` : "";
      this.element.querySelector(`${same}[data-action="${dataset.action}"]`)?.focus();
    } else if (dataset.wordIndex !== undefined) {
      this.focusOn({ line: this.selected.line, word: this.selected.word, kind: "word" });
    } else if (dataset.index !== undefined) {
      this.focusOn({ line: this.selected.line, kind: "mark" });
    }
  }

  focusOn({ line, word, kind }) {
    let selector = `[data-index="${line}"] [data-action="seek-line"]`;
    if (kind === "word") selector = `[data-index="${line}"] [data-word-index="${word}"]`;
    if (kind === "mark") {
      this.timeline.querySelector('[role="slider"]')?.focus();
      return;
    }
    this.list.querySelector(selector)?.focus();
  }

  renderList() {
    const rows = this.lines.map((line, index) => {
      const row = document.createElement("li");
      row.className = "karaoke-row";
      row.dataset.index = String(index);
      row.dataset.testid = "karaoke-row";
      if (index === this.playing) row.setAttribute("aria-current", "true");
      if (index === this.selected.line) row.dataset.selected = "true";
      if (this.tapMode && index === this.tapLine) row.dataset.tapNext = "true";
      const time = document.createElement("button");
      time.type = "button";
      time.className = "karaoke-row-time num";
      time.dataset.action = "seek-line";
      time.textContent = formatTime(line.start);
      time.setAttribute(
        "aria-label",
        interpolate(
          gettext("Line %(number)s at %(time)s: play from here"),
          { number: index + 1, time: formatTime(line.start) },
          true,
        ),
      );
      const words = document.createElement("span");
      words.className = "karaoke-row-words";
      words.lang = this.language === "pt" ? "pt-BR" : this.language;
      line.words.forEach((word, w) => {
        if (this.editing && this.editing.line === index && this.editing.word === w) {
          const input = document.createElement("input");
          input.type = "text";
          input.className = "karaoke-word-input";
          input.value = word.word;
          input.dataset.wordInput = "";
          input.dataset.testid = "karaoke-word-input";
          input.setAttribute("aria-label", gettext("Fix the word (Enter saves, Esc cancels)"));
          input.spellcheck = false;
          input.autocomplete = "off";
          words.append(input);
          return;
        }
        const button = document.createElement("button");
        button.type = "button";
        button.className = "karaoke-word-btn";
        button.dataset.wordIndex = String(w);
        button.textContent = word.word;
        button.setAttribute("aria-pressed", String(index === this.selected.line && w === this.selected.word));
        button.title = interpolate(
          gettext("%(start)s to %(end)s: click to fix"),
          { start: formatTime(word.start), end: formatTime(word.end) },
          true,
        );
        words.append(button);
      });
      row.append(time, words);
      return row;
    });
    this.list.replaceChildren(...rows);
  }

  renderTimeline(window = null) {
    const index = this.selected.line;
    const line = this.lines[index];
    const duration = Number.isFinite(this.durationS) ? this.durationS : 0;
    const pieces = [];
    if (!line) {
      this.window = null;
      this.timeline.hidden = true;
      return;
    }
    this.timeline.hidden = false;
    if (!window) {
      let start = Math.max(0, line.start - TIMELINE_BEFORE_S);
      const end = duration ? Math.min(duration, start + TIMELINE_BEFORE_S + TIMELINE_AFTER_S) : start + 10;
      start = Math.max(0, Math.min(start, end - TIMELINE_BEFORE_S - TIMELINE_AFTER_S));
      window = { start, end: Math.max(end, start + 1) };
    }
    this.window = window;
    this.timeline.dataset.windowStart = window.start.toFixed(3);
    this.timeline.dataset.windowEnd = window.end.toFixed(3);
    const place = (el, t) => el.style.setProperty("--x", String((t - window.start) / (window.end - window.start)));
    this.lines.forEach((other, i) => {
      if (other.start < window.start || other.start > window.end) return;
      const mark = document.createElement("span");
      mark.className = "karaoke-mark";
      mark.dataset.index = String(i);
      place(mark, other.start);
      if (i === index) {
        mark.classList.add("is-selected");
        mark.dataset.testid = "karaoke-mark";
        mark.tabIndex = 0;
        mark.setAttribute("role", "slider");
        mark.setAttribute("aria-label", interpolate(gettext("Start of line %(number)s"), { number: i + 1 }, true));
        mark.setAttribute("aria-valuemin", window.start.toFixed(2));
        mark.setAttribute("aria-valuemax", window.end.toFixed(2));
        mark.setAttribute("aria-valuenow", other.start.toFixed(2));
        mark.setAttribute("aria-valuetext", formatTime(other.start));
      } else {
        mark.setAttribute("aria-hidden", "true");
      }
      pieces.push(mark);
    });
    const head = document.createElement("span");
    head.className = "karaoke-playhead";
    head.setAttribute("aria-hidden", "true");
    pieces.push(head);
    this.timeline.replaceChildren(...pieces);
    this.setPosition(this.transport.position);
  }

  renderSelected() {
    const line = this.lines[this.selected.line];
    const word = line && line.words[this.selected.word];
    let text = gettext("No line selected");
    if (line && word) {
      text = interpolate(
        gettext("Line %(number)s at %(time)s · “%(word)s” at %(wordTime)s"),
        {
          number: this.selected.line + 1,
          time: formatTime(line.start),
          word: word.word,
          wordTime: formatTime(word.start),
        },
        true,
      );
    } else if (line) {
      const values = { number: this.selected.line + 1, time: formatTime(line.start) };
      text = interpolate(gettext("Line %(number)s at %(time)s"), values, true);
    }
    this.selectedText.textContent = text;
    const hasLine = Boolean(line);
    for (const action of ["line-earlier", "line-later", "merge"]) this.button(action).disabled = !hasLine;
    for (const action of ["word-earlier", "word-later"]) this.button(action).disabled = !word;
    this.button("split").disabled = !(word && this.selected.word >= 1);
    this.button("merge").disabled = !(hasLine && this.selected.line + 1 < this.lines.length);
  }

  renderTap() {
    const button = this.button("tap-mode");
    button.setAttribute("aria-pressed", String(this.tapMode));
    button.disabled = !this.lines.length;
    this.button("tap").hidden = !this.tapMode;
    this.tapHint.hidden = !this.tapMode;
    for (const row of this.list.querySelectorAll("[data-tap-next]")) delete row.dataset.tapNext;
    if (this.tapMode) {
      const row = this.list.querySelector(`[data-index="${this.tapLine}"]`);
      if (row) row.dataset.tapNext = "true";
    }
  }

  renderSave() {
    const dirty = this.dirty;
    this.button("save").disabled = this.busy || !dirty;
    this.button("discard").disabled = this.busy || !dirty;
    this.button("restore").disabled = this.busy || this.versions.length < 2;
    this.element.dataset.dirty = String(dirty);
  }

  renderVersions() {
    const select = this.versionsSelect;
    const chosen = select.value;
    const date = new Intl.DateTimeFormat(pageLocale(), { dateStyle: "medium", timeStyle: "short" });
    const options = [...this.versions]
      .sort((a, b) => b.number - a.number)
      .map((version) => {
        const option = document.createElement("option");
        option.value = String(version.number);
        const when = version.created_at ? date.format(new Date(version.created_at)) : "";
        option.textContent = interpolate(
          gettext("Version %(number)s · %(source)s · %(date)s"),
          { number: version.number, source: sourceLabel(version.source), date: when },
          true,
        );
        return option;
      });
    select.replaceChildren(...options);
    if (options.some((option) => option.value === chosen)) select.value = chosen;
    select.disabled = !options.length;
    this.renderSave();
  }
}
