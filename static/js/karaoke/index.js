/**
 * The karaoke view in the mixer: a "Karaoke" toggle opens a panel with the sing-along display
 * (view.js), the guide vocal's level, full screen, the lyrics editor (editor.js) and the paste
 * form (paste.js); without lyrics yet, the lyrics step's status and the form.
 *
 *   import { mountKaraoke } from "../karaoke/index.js";
 *   const karaoke = mountKaraoke(root.querySelector("[data-karaoke]"), {
 *     transport,                       // the mixer's Transport: position (s, the audio clock),
 *                                      // playing, duration, seek(s); events statechange, seek
 *     guide: { get: () => db, set: (db) => ... },   // the vocals stem's level (dB), the mixer's
 *   });
 *   karaoke.onJobEvent(event);         // the socket's job.progress events of kind "lyrics"
 *   karaoke.destroy();
 *
 * Markup (templates/projects/_karaoke.html, included inside [data-mixer]), root [data-karaoke]
 * with data-lyrics-url ("/api/v1/projects/<id>/lyrics/", the lyrics API: lyrics-api.js) and:
 *   [data-action=karaoke]             the toggle (aria-expanded), controls [data-karaoke-panel]
 *   [data-karaoke-status]             the lyrics' state in words (aria-live), with
 *   [data-karaoke-progress]           the step's <progress> while it is queued or running, and
 *   [data-karaoke-error]              an alert for a read that failed
 *   [data-karaoke-view]               the display (view.js): [data-karaoke-line], [data-karaoke-next],
 *                                     [data-karaoke-countdown] (three .karaoke-dot), and its
 *                                     controls: input[data-control=guide-gain] with its <output>,
 *                                     [data-action=karaoke-fullscreen] (aria-pressed),
 *                                     [data-action=karaoke-edit] (aria-expanded)
 *   [data-karaoke-editor]             the editor (editor.js documents its parts)
 *   [data-karaoke-paste-box]          a <details> holding form[data-karaoke-paste] (paste.js)
 * Written here: the root's data-state, one of closed | loading | ready (lines to show) | none
 * (no lyrics, no job) | queued | running | failed | empty (the job found no words) | error (the
 * read failed); and data-step, the lyrics job's status as the API says it.
 *
 * Clock: the display reads `transport.position` in an animation frame while the song plays and
 * the panel is open, and once on a seek or a pause; it keeps no clock of its own. Freshness: the
 * lyrics are read when the panel opens; while their job is queued or running, its events move the
 * status, a done or failed event reads them again, and when no event came for POLL_MS, REST is
 * read every POLL_MS (the socket may be down).
 *
 * The guide vocal: the first time the view opens for a project in this browser, a vocals level
 * still at 0 dB (nobody moved it, here or on the vocals strip) goes down to GUIDE_DEFAULT_DB.
 */

import { errorMessage, showError } from "../api.js";
import { formatDb } from "../format.js";
import { gettext, interpolate } from "../i18n.js";
import { LyricsEditor } from "./editor.js";
import { lyricsGet } from "./lyrics-api.js";
import { PasteForm } from "./paste.js";
import { KaraokeView } from "./view.js";

/** The guide vocal's level the first time the view opens (dB): there to follow, not to lead. */
export const GUIDE_DEFAULT_DB = -18;
/** While the lyrics job runs and no event came for this long (ms), REST is read this often. */
export const POLL_MS = 2000;
const WORKING = new Set(["queued", "running"]);

/**
 * @param {HTMLElement} root  the [data-karaoke] element
 * @param {{transport: object, guide: {get: () => number, set: (db: number) => void}}} options
 * @returns {{onJobEvent: (event: object) => void, destroy: () => void}}
 */
export function mountKaraoke(root, { transport, guide }) {
  const karaoke = new Karaoke(root, { transport, guide });
  return {
    onJobEvent: (event) => karaoke.onJobEvent(event),
    destroy: () => karaoke.destroy(),
  };
}

function stepText(step) {
  const percent = step.progress || 0;
  if (step.status === "queued") return gettext("The lyrics step is waiting to start…");
  if (step.status !== "running") return "";
  const words = {
    decode: gettext("Getting the vocals ready…"),
    load: gettext("Getting the vocals ready…"),
    language: gettext("Finding the language…"),
    align: gettext("Timing the words to the song… %(percent)s%"),
    transcribe: gettext("Listening for the lyrics… %(percent)s%"),
    store: gettext("Saving the lyrics…"),
  };
  return interpolate(words[step.stage] || gettext("Making the lyrics… %(percent)s%"), { percent }, true);
}

function madeBy(body) {
  const values = { model: body.model, number: body.version };
  const say = (text) => interpolate(text, values, true);
  if (body.source === "transcribed") {
    return body.model
      ? say(gettext("Transcribed with %(model)s · version %(number)s"))
      : say(gettext("Transcribed · version %(number)s"));
  }
  if (body.source === "aligned") {
    return body.model
      ? say(gettext("Your words, timed with %(model)s · version %(number)s"))
      : say(gettext("Your words, timed · version %(number)s"));
  }
  if (body.source === "edited") return say(gettext("Edited · version %(number)s"));
  return "";
}

class Karaoke {
  constructor(root, { transport, guide }) {
    this.root = root;
    this.transport = transport;
    this.guide = guide;
    this.url = root.dataset.lyricsUrl;
    this.toggle = root.querySelector('[data-action="karaoke"]');
    this.panel = root.querySelector("[data-karaoke-panel]");
    this.status = root.querySelector("[data-karaoke-status]");
    this.progress = root.querySelector("[data-karaoke-progress]");
    this.error = root.querySelector("[data-karaoke-error]");
    this.viewElement = root.querySelector("[data-karaoke-view]");
    this.editorElement = root.querySelector("[data-karaoke-editor]");
    this.editToggle = root.querySelector('[data-action="karaoke-edit"]');
    this.fullscreenButton = root.querySelector('[data-action="karaoke-fullscreen"]');
    this.guideInput = root.querySelector('[data-control="guide-gain"]');
    this.guideOutput = root.querySelector('output[for="karaoke-guide"]');
    this.pasteBox = root.querySelector("[data-karaoke-paste-box]");

    this.opened = false;
    this.body = null;
    this.step = { status: "none", progress: 0, stage: "", error: "" };
    this.reads = 0; // answers older than the newest read are dropped
    this.lastEventAt = 0;
    this.pollTimer = 0;
    this.frame = 0;
    this.guideShown = null;

    this.view = new KaraokeView(this.viewElement);
    this.editor = new LyricsEditor(this.editorElement, {
      url: this.url,
      transport,
      onSeek: (seconds) => transport.seek(seconds),
      onChange: (lines) => {
        this.view.setLines(lines, this.body ? this.body.language : "");
        this.draw();
      },
      onSaved: (body) => this.apply(body),
      onReload: () => this.load({ force: true }),
    });
    this.paste = new PasteForm(root.querySelector("[data-karaoke-paste]"), {
      url: this.url,
      onStarted: (body) => {
        this.lastEventAt = performance.now();
        this.apply(body);
      },
    });

    this.toggle.addEventListener("click", () => (this.opened ? this.close() : this.open()));
    this.editToggle.addEventListener("click", () => this.showEditor(this.editorElement.hidden));
    this.guideInput.addEventListener("input", () => {
      const db = Number.parseFloat(this.guideInput.value);
      this.guide.set(db);
      this.showGuide(this.guide.get());
    });
    this.guideInput.addEventListener("dblclick", () => {
      this.guide.set(0);
      this.showGuide(this.guide.get());
    });
    if (document.fullscreenEnabled && this.viewElement.requestFullscreen) {
      this.fullscreenButton.addEventListener("click", () => this.toggleFullscreen());
    } else {
      this.fullscreenButton.hidden = true; // an iPhone: no Fullscreen API on elements
    }
    this.onFullscreen = () => {
      const on = document.fullscreenElement === this.viewElement;
      this.fullscreenButton.setAttribute("aria-pressed", String(on));
      this.viewElement.dataset.fullscreen = String(on);
    };
    document.addEventListener("fullscreenchange", this.onFullscreen);
    this.onState = () => this.follow();
    this.onSeek = () => this.draw();
    transport.addEventListener("statechange", this.onState);
    transport.addEventListener("seek", this.onSeek);
  }

  destroy() {
    this.stopPoll();
    cancelAnimationFrame(this.frame);
    this.transport.removeEventListener("statechange", this.onState);
    this.transport.removeEventListener("seek", this.onSeek);
    document.removeEventListener("fullscreenchange", this.onFullscreen);
    this.editor.destroy();
    this.reads += 1;
  }

  // ---------------------------------------------------------------- open and close

  open() {
    this.opened = true;
    this.panel.hidden = false;
    this.toggle.setAttribute("aria-expanded", "true");
    if (!this.body) this.root.dataset.state = "loading";
    this.guideDefault();
    this.showGuide(this.guide.get());
    this.load();
    this.follow();
  }

  close() {
    this.opened = false;
    this.panel.hidden = true;
    this.toggle.setAttribute("aria-expanded", "false");
    this.root.dataset.state = "closed";
    if (document.fullscreenElement === this.viewElement) document.exitFullscreen().catch(() => {});
    this.stopPoll();
    cancelAnimationFrame(this.frame);
  }

  showEditor(show) {
    this.editorElement.hidden = !show;
    this.editToggle.setAttribute("aria-expanded", String(show));
    if (show) this.editor.setPosition(this.transport.position);
  }

  async toggleFullscreen() {
    try {
      if (document.fullscreenElement === this.viewElement) await document.exitFullscreen();
      else await this.viewElement.requestFullscreen();
    } catch {
      showError(this.error, gettext("This browser would not show the lyrics full screen."));
    }
  }

  // ---------------------------------------------------------------- the guide vocal

  guideKey() {
    return `isomix:karaoke:guide:${this.url}`;
  }

  guideDefault() {
    let done = false;
    try {
      done = window.localStorage.getItem(this.guideKey()) === "set";
    } catch {
      done = false; // no storage (a private window): this page's first open counts
    }
    if (done || this.guideDefaulted) return;
    if (this.guide.get() === 0) this.guide.set(GUIDE_DEFAULT_DB);
    // Only once it took (the mixer ignores levels until its stems are in): else the next open tries.
    if (this.guide.get() !== 0) {
      this.guideDefaulted = true;
      try {
        window.localStorage.setItem(this.guideKey(), "set");
      } catch {
        // Not kept beyond this page.
      }
    }
  }

  showGuide(db) {
    if (db === this.guideShown) return;
    this.guideShown = db;
    if (Number.parseFloat(this.guideInput.value) !== db) this.guideInput.value = String(db);
    const text = formatDb(db);
    if (this.guideOutput) this.guideOutput.textContent = text;
    this.guideInput.setAttribute("aria-valuetext", text);
  }

  // ---------------------------------------------------------------- the clock

  /** Draw in every animation frame while the song plays and the panel is open; once otherwise. */
  follow() {
    cancelAnimationFrame(this.frame);
    this.draw();
    if (!this.opened || !this.transport.playing) return;
    const tick = () => {
      this.draw();
      if (this.opened && this.transport.playing) this.frame = requestAnimationFrame(tick);
    };
    this.frame = requestAnimationFrame(tick);
  }

  draw() {
    if (!this.opened) return;
    const t = this.transport.position;
    if (!this.viewElement.hidden) this.view.render(t);
    if (!this.editorElement.hidden) this.editor.setPosition(t);
    this.showGuide(this.guide.get()); // the vocals strip may have moved it
  }

  // ---------------------------------------------------------------- the lyrics

  async load({ force = false } = {}) {
    const read = ++this.reads;
    try {
      const body = await lyricsGet(this.url);
      if (read !== this.reads) return;
      showError(this.error, null);
      this.apply(body, { force });
    } catch (error) {
      if (read !== this.reads) return;
      showError(this.error, errorMessage(error));
      if (!this.body) this.root.dataset.state = "error";
    }
  }

  /** A lyrics body (a GET, the PUT's 202, a PATCH's 200): show what it says. */
  apply(body, { force = false } = {}) {
    const hadLines = Boolean(this.body && this.body.lines && this.body.lines.length);
    this.body = body;
    this.step = { status: body.status, progress: body.progress, stage: body.stage, error: body.error };
    this.editor.load(body, { force });
    const lines = this.editor.lines;
    if (!this.editor.dirty) this.view.setLines(lines, body.language);
    if (body.language) this.paste.setLanguage(body.language);
    const has = lines.length > 0;
    this.viewElement.hidden = !has;
    if (!has) this.showEditor(false);
    this.editToggle.hidden = !has;
    // The form is open while there is nothing to sing; folded once lines arrive (the user may reopen it).
    if (!has) this.pasteBox.open = true;
    else if (!hadLines) this.pasteBox.open = false;
    this.showStatus();
    if (this.opened && WORKING.has(this.step.status)) this.startPoll();
    else this.stopPoll();
    this.draw();
  }

  showStatus() {
    const { status, progress, error } = this.step;
    const has = this.view.lines.length > 0;
    this.root.dataset.step = status;
    const working = WORKING.has(status);
    this.progress.hidden = !working;
    this.progress.value = progress || 0;
    let text;
    let state;
    if (working) {
      text = stepText(this.step);
      state = has ? "ready" : status;
    } else if (status === "failed") {
      text = error || gettext("The lyrics could not be made.");
      if (!has) text = `${text} ${gettext("You can paste them below.")}`;
      state = has ? "ready" : "failed";
    } else if (has) {
      text = this.body ? madeBy(this.body) : "";
      state = "ready";
    } else if (status === "done") {
      text = gettext("No sung words were found in this song. Paste the lyrics below to time them to it.");
      state = "empty";
    } else {
      text = gettext("No lyrics yet. Paste them below: they are timed to the song word by word.");
      state = "none";
    }
    this.status.textContent = text;
    if (this.opened) this.root.dataset.state = state;
  }

  /** A `job.progress` event of the project's socket. */
  onJobEvent(event) {
    if (!event || event.kind !== "lyrics") return;
    this.lastEventAt = performance.now();
    if (!this.opened) return; // read again when the panel opens
    if (WORKING.has(event.state)) {
      this.step = { ...this.step, status: event.state, progress: event.progress ?? 0, stage: event.stage || "" };
      this.showStatus();
      this.startPoll();
      return;
    }
    if (event.state === "failed" && event.user_error) {
      this.step = { ...this.step, status: "failed", error: event.user_error };
      this.showStatus();
    }
    this.load();
  }

  startPoll() {
    if (this.pollTimer) return;
    this.pollTimer = window.setInterval(() => {
      // Events are coming: they say when to read. Else the socket may be down: read.
      if (performance.now() - this.lastEventAt >= POLL_MS) this.load();
    }, POLL_MS);
  }

  stopPoll() {
    window.clearInterval(this.pollTimer);
    this.pollTimer = 0;
  }
}
