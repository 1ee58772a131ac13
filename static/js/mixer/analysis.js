/**
 * The song's analysis on the mixer page: tempo, key, meter and loudness in the page header,
 * and the beat grid handed on to the waveforms, the ruler and the metronome.
 *
 * REST is the source of truth: `GET data-analysis-url` (the mixer root's,
 * "/api/v1/projects/<id>/analysis/") answers `{"status": "none" | "queued" | "running" |
 * "done" | "failed", "progress", "stage", "error", "tempo_bpm", "beats": [s, ...],
 * "downbeats": [s, ...], "time_signature": "4/4", "key": "A minor", "key_confidence",
 * "loudness_lufs", "peak_dbfs"}`. It is read when the page loads, and again when an
 * `analyse` job's event says it finished (`onJobEvent`, the project socket's `job.progress`)
 * or the socket comes back (`onSocketMode("live")`: events sent meanwhile are lost). While
 * the job is queued or running the events' percent is shown ("Analysing… 40%").
 *
 * Markup (templates/projects/detail.html), `[data-analysis]` in the page header, with
 * data-state written here (loading | none | queued | running | done | failed | error) and:
 *   [data-analysis-field=tempo | key | meter | loudness]   the readouts (hidden until known)
 *   [data-analysis-status]   "Analysing… 40%", or the plain reason it failed
 *
 * `onAnalysis(analysis)` is called with every body whose status is "done".
 */

import { apiFetch, errorMessage } from "../api.js";
import { gettext, interpolate, pageLocale, pgettext } from "../i18n.js";

const MINUS = "\u2212";

/** The note names, which languages name differently ("A" is "Lá" in Portuguese). */
const NOTE_NAMES = {
  C: pgettext("note name", "C"),
  D: pgettext("note name", "D"),
  E: pgettext("note name", "E"),
  F: pgettext("note name", "F"),
  G: pgettext("note name", "G"),
  A: pgettext("note name", "A"),
  B: pgettext("note name", "B"),
};
const ACCIDENTALS = { "#": "\u266f", "\u266f": "\u266f", b: "\u266d", "\u266d": "\u266d" };
const MODES = {
  major: (root) => interpolate(gettext("%(root)s major"), { root }, true),
  minor: (root) => interpolate(gettext("%(root)s minor"), { root }, true),
};
const KEY_PATTERN = /^([A-G])([#b\u266f\u266d]?)\s+(major|minor)$/i;

function number(value, digits) {
  return new Intl.NumberFormat(pageLocale(), {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(value);
}

/**
 * A key as the analysis names it ("A minor", "F# major", "Bb minor") in the page's words
 * ("A minor", "Fá♯ maior"); anything else is shown as it came.
 *
 * @param {string | null} key
 */
export function formatKey(key) {
  const match = KEY_PATTERN.exec(String(key || "").trim());
  if (!match) return String(key || "");
  const [, letter, accidental, mode] = match;
  const root = `${NOTE_NAMES[letter.toUpperCase()]}${ACCIDENTALS[accidental] || ""}`;
  return MODES[mode.toLowerCase()](root);
}

/** "120 BPM" (one decimal where the tempo has one: "92.5 BPM"). */
export function formatTempo(bpm) {
  const digits = Math.abs(bpm - Math.round(bpm)) >= 0.05 ? 1 : 0;
  return interpolate(gettext("%(bpm)s BPM"), { bpm: number(bpm, digits) }, true);
}

/** "−9.1 LUFS" (integrated loudness). */
export function formatLoudness(lufs) {
  const sign = lufs < -0.05 ? MINUS : "";
  return interpolate(gettext("%(lufs)s LUFS"), { lufs: `${sign}${number(Math.abs(lufs), 1)}` }, true);
}

/** Whether an analysis body has a usable beat grid. */
export function hasBeats(analysis) {
  return Boolean(analysis && analysis.status === "done" && Array.isArray(analysis.beats) && analysis.beats.length > 1);
}

export class AnalysisPanel {
  /**
   * @param {HTMLElement | null} element  [data-analysis] (none: nothing is shown, the grid still loads)
   * @param {{url: string, onAnalysis: (analysis: object) => void}} options
   */
  constructor(element, { url, onAnalysis }) {
    this.element = element;
    this.url = url;
    this.onAnalysis = onAnalysis;
    this.status = element ? element.querySelector("[data-analysis-status]") : null;
    this.fields = {};
    if (element) {
      for (const field of element.querySelectorAll("[data-analysis-field]")) {
        this.fields[field.dataset.analysisField] = field;
      }
    }
    /** The last body read, or null. */
    this.analysis = null;
    this.reading = null;
    this.readAgain = false;
  }

  /** Read the analysis (a read asked for while one is on its way runs once more after it). */
  load() {
    if (!this.url) return Promise.resolve(null);
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    if (!this.analysis) this.setState("loading");
    this.reading = apiFetch(this.url)
      .then((analysis) => {
        this.show(analysis);
        return analysis;
      })
      .catch((error) => {
        this.setState("error");
        this.say(interpolate(gettext("Could not read the analysis: %(message)s"), { message: errorMessage(error) }, true));
        return null;
      })
      .finally(() => {
        this.reading = null;
        if (this.readAgain) {
          this.readAgain = false;
          this.load();
        }
      });
    return this.reading;
  }

  /** A `job.progress` event of the project (any kind: only `analyse` ones matter here). */
  onJobEvent(event) {
    if (!event || event.type !== "job.progress" || event.kind !== "analyse") return;
    if (event.state === "queued" || event.state === "running") {
      this.showProgress(event.state, event.progress);
      return;
    }
    this.load(); // done, failed or cancelled: what it found (or why not) comes from REST
  }

  onSocketMode(mode) {
    if (mode === "live" && this.analysis && this.analysis.status !== "done") this.load();
  }

  show(analysis) {
    this.analysis = analysis;
    const status = analysis.status;
    if (status === "done") {
      this.setState("done");
      this.say("");
      this.fill("tempo", analysis.tempo_bpm > 0 ? formatTempo(analysis.tempo_bpm) : "");
      this.fill("key", analysis.key ? formatKey(analysis.key) : "");
      this.fill("meter", analysis.time_signature || "");
      this.fill("loudness", Number.isFinite(analysis.loudness_lufs) ? formatLoudness(analysis.loudness_lufs) : "");
      this.onAnalysis(analysis);
      return;
    }
    for (const name of Object.keys(this.fields)) this.fill(name, "");
    if (status === "queued" || status === "running") {
      this.showProgress(status, analysis.progress);
    } else if (status === "failed" || status === "cancelled") {
      this.setState("failed");
      this.say(analysis.error || gettext("The analysis of beats and key failed."));
    } else {
      this.setState("none");
      this.say("");
    }
  }

  showProgress(state, progress) {
    this.setState(state);
    const percent = Math.max(0, Math.min(100, Math.round(Number(progress) || 0)));
    this.say(`${gettext("Analysing…")} ${percent}%`);
  }

  fill(name, text) {
    const field = this.fields[name];
    if (!field) return;
    const value = field.querySelector("[data-analysis-value]") || field;
    value.textContent = text;
    field.hidden = !text;
  }

  say(text) {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.hidden = !text;
  }

  setState(state) {
    if (this.element) this.element.dataset.state = state;
  }
}
