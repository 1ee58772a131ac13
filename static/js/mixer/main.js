/**
 * The mixer page: wires the markup to the audio graph, transport, strips, loop, tempo and
 * key, keyboard, saved state, presets and export.
 *
 * Markup (templates/projects/detail.html), root `[data-mixer]` with:
 *   data-mix-url        the saved mixer state (mix-store.js), "/api/v1/projects/<id>/mix/"
 *   data-exports-url, data-export-url-template   the export panel's (export.js)
 *   data-analysis-url   the song's analysis (analysis.js): the header's readouts, the beat
 *                       grid on the waveforms and the ruler, and the metronome's beats
 *   data-lyrics-url     the song's lyrics: the export panel offers the karaoke bundle once
 *                       they exist (their lines are not empty)
 *   data-api-url        the project (its `jobs`, for the steps below the mixer)
 *   data-ws-path        the project's WebSocket ("/ws/projects/<id>/"); its `job.progress`
 *                       events drive the export panel, the analysis, the steps (steps.js) and,
 *                       for lyrics jobs, the karaoke view
 *   data-mixer-ranges   JSON of domain/mix.py `mixer_ranges()`: gain_db, pan, tempo and
 *                       transpose ranges ({"min", "max", "step"}), peaks_per_second, loop_min_s;
 *                       the graph clamps to it (the inputs' min/max/step are rendered from it)
 * Written here: `data-state`, loading → ready → playing ⇄ paused (or error), and
 * `data-socket`, the project socket: connecting | live | polling | stopped.
 * Inside: [data-action=play], [data-clock-current], [data-clock-total], [data-mixer-status],
 * [data-mixer-error], the master's [data-fader] (input[data-control=master-gain]), its
 * [data-meter] and [data-clip] latch, [data-practice] (practice.js), [data-ruler] (loop.js),
 * [data-action=loop] (aria-pressed: looping), [data-action=loop-clear], [data-loop-readout],
 * [data-stem] strips (strips.js), [data-presets] (presets.js), [data-export-form] (export.js),
 * [data-shortcuts-dialog] (keyboard.js), [data-metronome] (its [data-action=metronome] and
 * [data-action=count-in] toggles, aria-pressed: on, and its level, input[data-control=
 * metronome-gain]; see metronome.js), [data-karaoke] (the karaoke view, ../karaoke/).
 * Outside the root: the header's [data-analysis] and the steps' [data-mixer-steps].
 * The metronome's level, mute and count-in are kept in this browser (localStorage, per
 * project): the saved mix (domain/mix.py MixSettings) has no place for them.
 *
 * Stem audio comes from each strip's data-preview-url; the template also preloads those URLs
 * (<link rel=preload as=fetch data-stem-preview=<kind> data-sample-rate>), so they download
 * while the scripts load, and the inline head script (templates/projects/_early_decode.js,
 * adopted by early.js) decodes them as they arrive.
 *
 * Debug handle for tests and the bench: `window.isomixMixer` (debug-handle.js). For the
 * bench and the console, the load is marked on the page's timeline (performance.mark):
 * isomix:decode-start (the inline script), isomix:load-start, isomix:stems-decoded, isomix:ready.
 */

import { apiFetch, errorMessage, showError } from "../api.js";
import { formatClock, formatDb } from "../format.js";
import { gettext, interpolate } from "../i18n.js";
import { AnalysisPanel, hasBeats } from "./analysis.js";
import { AudioGraph, parseMixerRanges } from "./audio-graph.js";
import { ExportPanel } from "./export.js";
import { Fader } from "./faders.js";
import { Shortcuts } from "./keyboard.js";
import { Meter } from "./meters.js";
import { Metronome } from "./metronome.js";
import { MixerControls } from "./mixer-controls.js";
import { MixStore } from "./mix-store.js";
import { PresetsPanel } from "./presets.js";
import { ProjectChannel } from "./socket.js";
import { StepList } from "./steps.js";
import { StemStrip, bindRange } from "./strips.js";
import { Transport } from "./transport.js";
import { exposeDebugHandle } from "./debug-handle.js";
import { early } from "./early.js";
import { drawWaveforms, loadStems } from "./stems-loader.js";
import { mountKaraoke } from "../karaoke/index.js";

/** Touch screens are told of taps, keyboards of keys. */
const TOUCH = window.matchMedia("(hover: none) and (pointer: coarse)");
/** Meters are read and moved at most this often (ms): ~30 a second. */
const METER_INTERVAL_MS = 30;
/** Paused this long, the audio clock is stopped: an open, paused mixer costs no CPU. */
const IDLE_SUSPEND_MS = 1500;
/** The count-in's first click is this far ahead (s): room to schedule the bar and the song. */
const COUNT_IN_LEAD_S = 0.1;
/** The steps shown below the mixer: one each, the newest job of the kind. */
const STEP_KINDS = ["separate", "analyse", "lyrics"];

class Mixer extends MixerControls {
  /**
   * @param {HTMLElement} root
   * @param {{context: BaseAudioContext, decoding: Map<string, Promise<AudioBuffer>>} | null} early
   *   the context and decodes early.js started, if it could
   */
  constructor(root, early = null) {
    super(root);
    this.decoding = early ? early.decoding : new Map();
    this.status = root.querySelector("[data-mixer-status]");
    this.errorBox = root.querySelector("[data-mixer-error]");
    this.playButton = root.querySelector('[data-action="play"]');
    this.clockCurrent = root.querySelector("[data-clock-current]");
    this.clockTotal = root.querySelector("[data-clock-total]");
    this.state = "loading";
    this.hasPlayed = false;
    this.frame = 0;

    try {
      this.ranges = parseMixerRanges(root.dataset.mixerRanges);
    } catch (error) {
      this.fail(interpolate(gettext("The mixer cannot start: %(message)s."), { message: error.message }, true));
      return;
    }
    this.context = early ? early.context : null; // made by the page's inline script, where Web Audio exists
    if (!this.context) {
      this.fail(gettext("This browser cannot play audio with the Web Audio API. Try a current Chrome, Firefox or Safari."));
      return;
    }
    this.graph = new AudioGraph(this.context, this.ranges);
    this.transport = new Transport(this.graph);
    // The clicks join after the master bus and the pitch shifter: no latency, no transpose.
    this.metronome = new Metronome({ context: this.context, destination: this.graph.out, transport: this.transport });
    this.analysis = null;
    this.strips = new Map();
    const onChange = () => {
      this.showAudibility();
      this.changed();
    };
    for (const element of root.querySelectorAll("[data-stem]")) {
      const strip = new StemStrip(element, { graph: this.graph, onSeek: (s) => this.seek(s), onChange });
      this.strips.set(strip.kind, strip);
    }
    this.wireMaster();
    this.wireTransport();
    this.wirePractice();
    this.wireLoop();
    this.wireMetronome();
    this.shortcuts = new Shortcuts(root, this.shortcutActions());
    this.analysisPanel = new AnalysisPanel(document.querySelector("[data-analysis]"), {
      url: root.dataset.analysisUrl,
      onAnalysis: (analysis) => this.setAnalysis(analysis),
    });
    this.analysisPanel.load();
    this.wireSteps();

    const mixUrl = root.dataset.mixUrl;
    this.store = mixUrl ? new MixStore({ url: mixUrl }) : null;
    const exportForm = root.querySelector("[data-export-form]");
    if (exportForm) {
      this.exportPanel = new ExportPanel(exportForm, {
        exportsUrl: root.dataset.exportsUrl,
        statusUrlTemplate: root.dataset.exportUrlTemplate,
        getSettings: () => this.getSettings(),
      });
    }
    const presets = root.querySelector("[data-presets]");
    if (presets) {
      this.presetsPanel = new PresetsPanel(presets, {
        getSettings: () => this.getSettings(),
        applySettings: (settings) => {
          if (!this.usable) return;
          this.applySettings(settings);
          this.changed();
        },
        onReset: () => this.resetMix(),
      });
    }
    const karaokeRoot = root.querySelector("[data-karaoke][data-lyrics-url]");
    this.karaoke = karaokeRoot
      ? mountKaraoke(karaokeRoot, {
          transport: this.transport,
          guide: {
            get: () => (this.strips.has("vocals") ? this.graph.channel("vocals").gainDb : 0),
            set: (db) => this.setStemGain("vocals", db),
          },
        })
      : null;
    exposeDebugHandle(this);
    this.setState("loading");
    // What the socket drives (exports, the analysis, the steps) can wait for the stems: it
    // connects once they are in rather than compete with their decoding (each part has read
    // REST once already, and reads again when the socket is live).
    this.load().finally(() => this.connectSocket());
  }

  /** Job events arrive on the project's socket; each part re-reads REST for what they say changed. */
  connectSocket() {
    if (!this.root.dataset.wsPath) return;
    this.root.dataset.socket = "connecting";
    this.channel = new ProjectChannel({
      wsPath: this.root.dataset.wsPath,
      onEvent: (event) => this.onJobEvent(event),
      onModeChange: (mode) => {
        this.root.dataset.socket = mode;
        if (this.exportPanel) this.exportPanel.onSocketMode(mode);
        this.analysisPanel.onSocketMode(mode);
        // Events sent while it was down (or before it first came up) are lost: read what they
        // would have said. The lyrics were read just before it first connected (load()).
        if (mode === "live") {
          this.refreshSteps();
          if (this.socketWasLive) this.checkLyrics();
          this.socketWasLive = true;
        }
      },
    });
    this.channel.start();
  }

  /** A `job.progress` event of any of the project's jobs. */
  onJobEvent(event) {
    if (!event || event.type !== "job.progress") return;
    if (this.exportPanel) this.exportPanel.onJobEvent(event);
    this.analysisPanel.onJobEvent(event);
    if (this.steps && this.steps.onEvent(event)) this.refreshSteps(); // a new job, or a new state
    if (event.kind === "lyrics") {
      this.karaoke?.onJobEvent(event);
      if (event.state === "done") this.checkLyrics();
    }
  }

  /** The analysis is done: its beats go to the waveforms, the ruler and the metronome. */
  setAnalysis(analysis) {
    this.analysis = analysis;
    const grid = hasBeats(analysis) ? { beats: analysis.beats, downbeats: analysis.downbeats || [] } : null;
    for (const strip of this.strips.values()) strip.waveform.setBeats(grid);
    this.ruler.setBars(grid ? grid.downbeats : []);
    this.metronome.setGrid(grid ? analysis : {});
    this.showMetronome();
  }

  // ---------------------------------------------------------------- steps and lyrics

  wireSteps() {
    const box = document.querySelector("[data-mixer-steps]");
    const list = box && box.querySelector("[data-steps]");
    const template = box && box.querySelector("[data-step-template]");
    if (!list || !template) return;
    this.steps = new StepList(list, template, { kinds: STEP_KINDS, byKind: true });
    this.stepsReading = null;
    this.stepsClock = null;
    this.tickSteps();
  }

  /** A running step shows its elapsed time, once a second; with none running, no timer runs. */
  tickSteps() {
    const running = Boolean(this.steps && this.steps.list.querySelector('[data-field="time"][data-started-at]'));
    if (running && !this.stepsClock) {
      this.stepsClock = window.setInterval(() => {
        this.steps.tick();
        this.tickSteps();
      }, 1000);
    } else if (!running && this.stepsClock) {
      window.clearInterval(this.stepsClock);
      this.stepsClock = null;
    }
  }

  /** Read the project's jobs (their times taken, the plain reasons); one read at a time. */
  refreshSteps() {
    if (!this.steps || !this.root.dataset.apiUrl) return;
    if (this.stepsReading) {
      this.stepsAgain = true;
      return;
    }
    this.stepsAgain = false;
    this.stepsReading = apiFetch(this.root.dataset.apiUrl)
      .then((project) => {
        for (const job of (project && project.jobs) || []) this.steps.update(job);
        this.tickSteps();
      })
      .catch(() => {}) // the events still move the steps; the next change reads again
      .finally(() => {
        this.stepsReading = null;
        if (this.stepsAgain) this.refreshSteps();
      });
  }

  /** Whether the song has lyrics: the export panel offers the karaoke bundle only then. */
  checkLyrics() {
    if (!this.exportPanel || !this.root.dataset.lyricsUrl) return Promise.resolve();
    return apiFetch(this.root.dataset.lyricsUrl)
      .then((lyrics) => {
        this.lyricsReady = Boolean(lyrics && Array.isArray(lyrics.lines) && lyrics.lines.length);
        this.exportPanel.setLyricsReady(this.lyricsReady);
      })
      .catch(() => {}); // not offered for now: the next lyrics event asks again
  }

  // ---------------------------------------------------------------- metronome

  wireMetronome() {
    const box = this.root.querySelector("[data-metronome]");
    if (!box) return;
    this.metronomeBox = box;
    this.metronomeToggle = box.querySelector('[data-action="metronome"]');
    this.countInToggle = box.querySelector('[data-action="count-in"]');
    this.metronomeGain = box.querySelector('[data-control="metronome-gain"]');
    this.metronomeKey = `isomix:metronome:${this.root.dataset.apiUrl || window.location.pathname}`;
    const saved = this.readMetronomeState();
    const range = this.ranges.gain_db;
    if (Number.isFinite(saved.gain_db)) {
      this.metronome.setGainDb(Math.min(range.max, Math.max(range.min, saved.gain_db)));
      this.metronomeGain.value = String(this.metronome.gainDb);
    } else {
      this.metronome.setGainDb(Number.parseFloat(this.metronomeGain.value));
    }
    this.metronome.setMuted(saved.muted !== false);
    this.metronome.setCountIn(saved.count_in === true);
    bindRange(
      box,
      this.metronomeGain,
      (db) => {
        this.metronome.setGainDb(db);
        this.saveMetronomeState();
      },
      formatDb,
    );
    this.metronomeToggle.addEventListener("click", () => {
      this.metronome.setMuted(!this.metronome.muted);
      this.showMetronome();
      this.saveMetronomeState();
    });
    this.countInToggle.addEventListener("click", () => {
      this.metronome.setCountIn(!this.metronome.countInEnabled);
      this.showMetronome();
      this.saveMetronomeState();
    });
    this.showMetronome();
  }

  /** The metronome's controls: usable once the analysis found beats. */
  showMetronome() {
    if (!this.metronomeBox) return;
    const ready = this.metronome.ready;
    this.metronomeBox.dataset.ready = String(ready);
    this.metronomeToggle.disabled = !ready;
    this.countInToggle.disabled = !ready;
    this.metronomeGain.disabled = !ready;
    this.metronomeToggle.setAttribute("aria-pressed", String(!this.metronome.muted));
    this.countInToggle.setAttribute("aria-pressed", String(this.metronome.countInEnabled));
    this.metronomeToggle.title = ready
      ? this.metronome.muted
        ? gettext("Click on: a click on every beat the analysis found")
        : gettext("Click off")
      : gettext("The click waits for the analysis of beats");
  }

  readMetronomeState() {
    try {
      const state = JSON.parse(window.localStorage.getItem(this.metronomeKey) || "{}");
      return state && typeof state === "object" ? state : {};
    } catch {
      return {}; // no storage here (a private window), or not ours: the defaults
    }
  }

  saveMetronomeState() {
    const state = { gain_db: this.metronome.gainDb, muted: this.metronome.muted, count_in: this.metronome.countInEnabled };
    try {
      window.localStorage.setItem(this.metronomeKey, JSON.stringify(state));
    } catch {
      // Not kept beyond this page; it still works.
    }
  }

  /** A stem's fader moved from elsewhere (the karaoke view's guide vocal): graph, fader, saved mix. */
  setStemGain(kind, db) {
    const strip = this.strips.get(kind);
    if (!strip || !this.usable) return;
    strip.setGain(Number(db) || 0);
    strip.showGain(this.graph.channel(kind).gainDb);
    strip.fader.place();
    this.changed();
  }

  wireMaster() {
    const input = this.root.querySelector('[data-control="master-gain"]');
    this.masterFader = new Fader(input.closest("[data-fader]"));
    this.showMasterGain = bindRange(
      this.root,
      input,
      (db) => {
        this.graph.setMasterGainDb(db);
        this.changed();
      },
      formatDb,
    );
    const meter = this.root.querySelector("[data-master-meter]");
    this.masterMeter = new Meter(meter, {
      law: this.masterFader.law,
      clip: this.root.querySelector("[data-clip]"),
    });
  }

  wireTransport() {
    this.playButton.addEventListener("click", () => this.toggle());
    this.transport.addEventListener("statechange", () => {
      window.clearTimeout(this.idleTimer);
      if (!this.transport.playing) {
        this.idleTimer = window.setTimeout(() => this.suspendIfIdle(), IDLE_SUSPEND_MS);
        window.clearTimeout(this.countInTimer); // a pause in the count-in takes it back
        delete this.root.dataset.countIn;
      }
      if (this.state === "loading" || this.state === "error") return;
      if (this.transport.playing) this.hasPlayed = true;
      this.setState(this.transport.playing ? "playing" : this.hasPlayed ? "paused" : "ready");
    });
    this.transport.addEventListener("seek", () => this.render());
  }

  /** Stop the audio clock while nothing plays (Play resumes it). */
  suspendIfIdle() {
    if (!this.transport.playing && !this.transport.starting && this.context.state === "running") {
      this.context.suspend().catch(() => {});
    }
  }

  /** Whether the mixer takes commands (stems loaded, no error). */
  get usable() {
    return this.state !== "loading" && this.state !== "error";
  }

  toggle() {
    if (!this.usable) return Promise.resolve();
    const action = this.transport.playing ? this.transport.pause() : this.play();
    return Promise.resolve(action).catch((error) =>
      this.fail(interpolate(gettext("Playback failed: %(message)s"), { message: error.message || error }, true)),
    );
  }

  /** Play; with the count-in on, after one bar of clicks, the song starting on the bar's end. */
  async play() {
    if (!this.metronome.countInEnabled || !this.metronome.ready) return this.transport.play();
    if (this.context.state !== "running") await this.context.resume();
    if (this.transport.playing || this.transport.starting) return undefined;
    const end = this.metronome.countInAt(this.context.currentTime + COUNT_IN_LEAD_S, this.tempo);
    // The stems are heard outputDelay after they play (the pitch shifter); the clicks at once.
    await this.transport.play({ at: end - this.transport.outputDelay });
    this.showCountIn(end);
    return undefined;
  }

  /** "Count-in…" until the bar ends (the root's data-count-in is "on" meanwhile). */
  showCountIn(end) {
    window.clearTimeout(this.countInTimer);
    this.root.dataset.countIn = "on";
    this.showStatus(gettext("Count-in…"));
    const over = () => {
      delete this.root.dataset.countIn;
      if (this.state === "playing") this.showStatus(gettext("Playing"));
    };
    const left = end - this.context.currentTime;
    if (left > 0) this.countInTimer = window.setTimeout(over, left * 1000);
    else over();
  }

  seek(seconds) {
    if (!this.usable) return;
    this.transport.seek(seconds);
  }

  /** The user changed the mix: save it (debounced) and tell the export panel. */
  changed() {
    if (!this.usable) return;
    const settings = this.getSettings();
    if (this.store) this.store.schedule(settings);
    if (this.exportPanel) this.exportPanel.onSettingsChange(settings);
  }

  /** The whole mix settings, as the contract has them. */
  getSettings() {
    const loop = this.loop
      ? { start_s: round3(this.loop.start), end_s: round3(this.loop.end), enabled: this.loop.enabled }
      : null;
    return { ...this.graph.settings(), tempo: this.tempo, transpose: this.transpose, loop };
  }

  /**
   * Put a whole mix settings object on the mixer: graph, faders, buttons, loop, tempo, key.
   * Stems it does not name go back to rest; missing tempo/transpose/loop mean 1, 0 and none.
   * Used to restore the saved state and to load a preset; it saves nothing by itself.
   */
  applySettings(settings) {
    if (!settings || typeof settings !== "object") return;
    const master = Number(settings.master_gain_db);
    this.graph.setMasterGainDb(Number.isFinite(master) ? master : 0);
    this.showMasterGain(this.graph.masterGainDb);
    this.masterFader.place();
    const stems = settings.stems && typeof settings.stems === "object" ? settings.stems : {};
    for (const [kind, strip] of this.strips) strip.apply(stems[kind] || {});
    this.showAudibility();
    this.setTempo(Number.isFinite(settings.tempo) ? settings.tempo : 1, { user: false });
    this.setTranspose(Number.isFinite(settings.transpose) ? settings.transpose : 0, { user: false });
    const loop = settings.loop;
    const region =
      loop && Number.isFinite(loop.start_s) && Number.isFinite(loop.end_s)
        ? { start: loop.start_s, end: loop.end_s, enabled: loop.enabled !== false }
        : null;
    this.setLoopRegion(region, { user: false });
    if (this.exportPanel) this.exportPanel.onSettingsChange(this.getSettings());
  }

  /** The reset button: defaults on the page at once, then the saved state forgotten. */
  async resetMix() {
    this.applySettings({});
    if (!this.store) return;
    const defaults = await this.store.reset();
    if (defaults) this.applySettings(defaults);
  }

  showAudibility() {
    for (const strip of this.strips.values()) strip.showAudibility();
  }

  async load() {
    const strips = [...this.strips.values()].filter((strip) => strip.previewUrl);
    if (!strips.length) {
      this.fail(gettext("This project has no stems to play."));
      return;
    }
    mark("isomix:load-start");
    const shifterReady = this.setUpShifter();
    const savedReady = this.store ? this.store.load() : Promise.resolve(null);
    this.showLoading(0, strips.length);
    let buffers;
    try {
      buffers = await loadStems({
        context: this.context,
        strips,
        decoding: this.decoding,
        onDecoded: (done, total) => this.showLoading(done, total),
      });
    } catch (error) {
      const message = error instanceof DOMException ? gettext("the audio could not be decoded.") : errorMessage(error);
      this.fail(interpolate(gettext("Could not load the stems: %(message)s"), { message }, true));
      return;
    }
    mark("isomix:stems-decoded");
    this.transport.setBuffers(buffers);
    const duration = this.transport.duration;
    this.clockTotal.textContent = formatClock(duration, { tenths: true });
    this.ruler.setDuration(duration);
    this.checkLyrics();
    for (const strip of this.strips.values()) strip.waveform.setDuration(duration);
    drawWaveforms({ strips, buffers, peaksPerSecond: this.ranges.peaks_per_second });
    await shifterReady;
    const saved = await savedReady;
    this.state = "ready"; // before applying: the setters act only on a usable mixer
    if (saved) this.applySettings(saved);
    this.showAudibility();
    this.playButton.disabled = false;
    this.shortcuts.enabled = true;
    this.setState("ready");
    mark("isomix:ready");
    this.render();
  }

  showLoading(done, total) {
    this.showStatus(interpolate(gettext("Loading stems… %(done)s of %(total)s"), { done, total }, true));
  }

  setState(state) {
    this.state = state;
    this.root.dataset.state = state;
    const playing = state === "playing";
    const touch = TOUCH.matches;
    this.playButton.setAttribute("aria-label", playing ? gettext("Pause") : gettext("Play"));
    this.playButton.title = playing
      ? touch
        ? gettext("Pause")
        : gettext("Pause (Space)")
      : touch
        ? gettext("Play")
        : gettext("Play (Space)");
    const texts = {
      ready: touch ? gettext("Ready. Tap Play.") : gettext("Ready. Press Play or the space bar."),
      playing: gettext("Playing"),
      paused: gettext("Paused"),
    };
    if (state in texts) this.showStatus(texts[state]);
    if (playing) this.startAnimation();
    else if (state === "paused" || state === "ready") this.silenceMeters();
  }

  showStatus(text) {
    if (this.status) this.status.textContent = text;
  }

  fail(message) {
    this.state = "error";
    this.root.dataset.state = "error";
    if (this.playButton) this.playButton.disabled = true;
    if (this.shortcuts) this.shortcuts.enabled = false;
    this.showStatus("");
    showError(this.errorBox, message);
  }

  startAnimation() {
    if (this.frame) return;
    const step = (time) => {
      this.transport.tick();
      this.render(time);
      this.frame = this.transport.playing ? window.requestAnimationFrame(step) : 0;
    };
    this.frame = window.requestAnimationFrame(step);
  }

  render(time = performance.now()) {
    const position = this.transport.position;
    const text = formatClock(position, { tenths: true });
    if (this.clockCurrent.textContent !== text) this.clockCurrent.textContent = text;
    for (const { waveform } of this.strips.values()) waveform.draw(position);
    this.ruler.draw(position);
    // The meters at half the frame rate: smooth to the eye, half the compositing.
    if (this.transport.playing && time - (this.metered || 0) >= METER_INTERVAL_MS) {
      this.metered = time;
      this.readLevels(time);
    }
  }

  /** One meter reading: every strip's and the master's (the master's may latch its clip). */
  readLevels(time = performance.now()) {
    const peaks = this.graph.peakLevels();
    for (const [kind, strip] of this.strips) if (strip.meter) strip.meter.update(peaks.stems[kind] ?? 0, time);
    this.masterMeter.update(peaks.master, time);
    return peaks;
  }

  silenceMeters() {
    for (const strip of this.strips.values()) if (strip.meter) strip.meter.silence();
    if (this.masterMeter) this.masterMeter.silence();
  }
}

function round3(value) {
  return Math.round(value * 1000) / 1000;
}

function mark(name) {
  if (window.performance && performance.mark) performance.mark(name);
}

// An async module: this may run before the markup is parsed. The stems are on their way
// already (early.js); the mixer is built once the markup is there.
const start = () => {
  const root = document.querySelector("[data-mixer]");
  if (root) new Mixer(root, early);
};
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
else start();
