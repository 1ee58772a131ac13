/**
 * The mixer page: wires the markup to the audio graph, transport, waveforms and export.
 *
 * Markup (templates/projects/detail.html), root `[data-mixer]` with:
 *   data-api-url, data-exports-url, data-export-url-template
 *   data-ws-path        the project's WebSocket ("/ws/projects/<id>/"); its `job.progress`
 *                       events drive the export panel (see export.js)
 *   data-mixer-ranges   JSON of domain/mix.py `mixer_ranges()`: `{"gain_db": {"min", "max",
 *                       "step"}, "pan": {"min", "max", "step"}, "peaks_per_second"}`; the
 *                       graph clamps to it and a waveform drawn from the audio uses its rate
 *                       (the inputs' min/max/step are rendered from the same dict)
 * Written here: `data-state`, loading → ready → playing ⇄ paused (or error), and
 * `data-socket`, the project socket: connecting | live | polling (down: the export panel
 * reads REST slowly meanwhile) | stopped.
 * Inside: [data-action=play], [data-clock-current], [data-clock-total],
 * [data-control=master-gain], [data-mixer-status], [data-mixer-error], [data-export-form],
 * and one [data-stem=<kind>] strip per stem holding [data-control=gain|pan],
 * [data-action=mute|solo] (aria-pressed), [data-waveform] <canvas>, [data-stem-download].
 *
 * Debug handle for tests and the console, read-only:
 *   window.isomixMixer.audioContext  the page's one AudioContext (e.g. .currentTime)
 *   window.isomixMixer.state         same as the root's data-state
 *   window.isomixMixer.position      playhead in seconds; .duration: the song's length
 *   window.isomixMixer.settings()    the mixer state as the export API takes it
 *   window.isomixMixer.ranges        the served ranges (data-mixer-ranges, parsed)
 */

import { apiFetch, errorMessage, fetchBinary, showError } from "../api.js";
import { describePan, formatClock, formatDb, formatPan } from "../format.js";
import { AudioGraph, parseMixerRanges } from "./audio-graph.js";
import { ExportPanel } from "./export.js";
import { ProjectChannel } from "./socket.js";
import { Transport } from "./transport.js";
import { Waveform, peaksFromBuffer } from "./waveform.js";

class Mixer {
  constructor(root) {
    this.root = root;
    this.status = root.querySelector("[data-mixer-status]");
    this.errorBox = root.querySelector("[data-mixer-error]");
    this.playButton = root.querySelector('[data-action="play"]');
    this.clockCurrent = root.querySelector("[data-clock-current]");
    this.clockTotal = root.querySelector("[data-clock-total]");
    this.state = "loading";
    this.hasPlayed = false;
    this.frame = 0;

    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (!AudioContextClass) {
      this.fail("This browser cannot play audio with the Web Audio API. Try a current Chrome, Firefox or Safari.");
      return;
    }
    try {
      this.ranges = parseMixerRanges(root.dataset.mixerRanges);
    } catch (error) {
      this.fail(`The mixer cannot start: ${error.message}.`);
      return;
    }
    this.context = new AudioContextClass();
    this.graph = new AudioGraph(this.context, this.ranges);
    this.transport = new Transport(this.graph);
    this.strips = new Map();
    for (const element of root.querySelectorAll("[data-stem]")) this.addStrip(element);

    this.wireTransport();
    this.wireRange(root.querySelector('[data-control="master-gain"]'), (value) => this.graph.setMasterGainDb(value), formatDb);
    const exportForm = root.querySelector("[data-export-form]");
    if (exportForm) {
      this.exportPanel = new ExportPanel(exportForm, {
        exportsUrl: root.dataset.exportsUrl,
        statusUrlTemplate: root.dataset.exportUrlTemplate,
        getSettings: () => this.graph.settings(),
      });
      this.connectSocket();
    }
    this.exposeDebugHandle();
    this.setState("loading");
    this.load();
  }

  /** Export progress arrives as job events on the project's socket (REST is read by the panel). */
  connectSocket() {
    if (!this.root.dataset.wsPath) return;
    this.root.dataset.socket = "connecting";
    this.channel = new ProjectChannel({
      wsPath: this.root.dataset.wsPath,
      onEvent: (event) => this.exportPanel.onJobEvent(event),
      onModeChange: (mode) => {
        this.root.dataset.socket = mode;
        this.exportPanel.onSocketMode(mode);
      },
    });
    this.channel.start();
  }

  addStrip(element) {
    const kind = element.dataset.stem;
    const label = element.dataset.stemLabel || kind;
    this.graph.addStem(kind);
    const canvas = element.querySelector("[data-waveform]");
    const waveform = new Waveform(canvas, { label, onSeek: (seconds) => this.seek(seconds) });
    const mute = element.querySelector('[data-action="mute"]');
    const solo = element.querySelector('[data-action="solo"]');
    this.wireRange(element.querySelector('[data-control="gain"]'), (value) => this.graph.setGainDb(kind, value), formatDb);
    this.wireRange(element.querySelector('[data-control="pan"]'), (value) => this.graph.setPan(kind, value), formatPan, describePan);
    mute.addEventListener("click", () => {
      this.graph.setMute(kind, !this.graph.channel(kind).mute);
      this.showAudibility();
    });
    solo.addEventListener("click", () => {
      this.graph.setSolo(kind, !this.graph.channel(kind).solo);
      this.showAudibility();
    });
    this.strips.set(kind, { element, waveform, mute, solo, download: element.querySelector("[data-stem-download]") });
  }

  /**
   * A range input bound to a setter, with its <output for=id> showing the value.
   * Double-click returns it to its default (the value in the markup).
   */
  wireRange(input, apply, format, describe = format) {
    if (!input) return;
    const output = input.id ? this.root.querySelector(`output[for="${CSS.escape(input.id)}"]`) : null;
    const update = () => {
      const value = Number.parseFloat(input.value);
      apply(value);
      if (output) output.textContent = format(value);
      input.setAttribute("aria-valuetext", describe(value));
    };
    input.addEventListener("input", update);
    input.addEventListener("dblclick", () => {
      input.value = input.defaultValue;
      update();
    });
    update();
  }

  /** Reflect mute/solo on the buttons and dim the strips that are not heard. */
  showAudibility() {
    for (const [kind, strip] of this.strips) {
      const channel = this.graph.channel(kind);
      strip.mute.setAttribute("aria-pressed", String(channel.mute));
      strip.solo.setAttribute("aria-pressed", String(channel.solo));
      strip.element.dataset.audible = String(this.graph.isAudible(kind));
    }
  }

  wireTransport() {
    this.playButton.addEventListener("click", () => this.toggle());
    document.addEventListener("keydown", (event) => {
      if (event.key !== " " || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
      if (usesSpace(event.target)) return;
      event.preventDefault();
      this.toggle();
    });
    this.transport.addEventListener("statechange", () => {
      if (this.state === "loading" || this.state === "error") return;
      if (this.transport.playing) this.hasPlayed = true;
      this.setState(this.transport.playing ? "playing" : this.hasPlayed ? "paused" : "ready");
    });
    this.transport.addEventListener("seek", () => this.render());
  }

  toggle() {
    if (this.state === "loading" || this.state === "error") return;
    Promise.resolve(this.transport.toggle()).catch((error) => this.fail(`Playback failed: ${error.message || error}`));
  }

  seek(seconds) {
    if (this.state === "loading" || this.state === "error") return;
    this.transport.seek(seconds);
  }

  async load() {
    let project;
    try {
      project = await apiFetch(this.root.dataset.apiUrl);
    } catch (error) {
      this.fail(`Could not load the project: ${errorMessage(error)}`);
      return;
    }
    const stems = (project.stems || []).filter((stem) => this.strips.has(stem.kind));
    if (!stems.length) {
      this.fail("This project has no stems to play.");
      return;
    }
    for (const stem of stems) {
      const link = this.strips.get(stem.kind).download;
      if (link && stem.download_url) {
        link.href = stem.download_url;
        link.hidden = false;
      }
    }

    // Waveforms draw as soon as their peaks arrive; the audio decodes meanwhile.
    const peaksLoaded = new Set();
    for (const stem of stems) {
      if (!stem.peaks_url) continue;
      apiFetch(stem.peaks_url)
        .then((data) => {
          if (data && Array.isArray(data.peaks)) {
            peaksLoaded.add(stem.kind);
            this.strips.get(stem.kind).waveform.setPeaks(data);
          }
        })
        .catch(() => {
          // Drawn from the decoded audio below.
        });
    }

    let decoded = 0;
    this.showStatus(`Loading stems… 0 of ${stems.length}`);
    let buffers;
    try {
      buffers = await Promise.all(
        stems.map(async (stem) => {
          const data = await fetchBinary(stem.preview_url);
          const buffer = await this.context.decodeAudioData(data);
          decoded += 1;
          this.showStatus(`Loading stems… ${decoded} of ${stems.length}`);
          return [stem.kind, buffer];
        }),
      );
    } catch (error) {
      this.fail(`Could not load the stems: ${error instanceof DOMException ? "the audio could not be decoded." : errorMessage(error)}`);
      return;
    }

    this.transport.setBuffers(new Map(buffers));
    this.clockTotal.textContent = formatClock(this.transport.duration, { tenths: true });
    for (const [kind, buffer] of buffers) {
      const { waveform } = this.strips.get(kind);
      waveform.setDuration(this.transport.duration);
      if (!peaksLoaded.has(kind)) waveform.setPeaks(peaksFromBuffer(buffer, this.ranges.peaks_per_second));
    }
    this.showAudibility();
    this.playButton.disabled = false;
    this.setState("ready");
    this.render();
  }

  setState(state) {
    this.state = state;
    this.root.dataset.state = state;
    const playing = state === "playing";
    this.playButton.setAttribute("aria-label", playing ? "Pause" : "Play");
    this.playButton.title = playing ? "Pause (Space)" : "Play (Space)";
    const texts = { ready: "Ready. Press Play or the space bar.", playing: "Playing", paused: "Paused" };
    if (state in texts) this.showStatus(texts[state]);
    if (playing) this.startAnimation();
  }

  showStatus(text) {
    if (this.status) this.status.textContent = text;
  }

  fail(message) {
    this.state = "error";
    this.root.dataset.state = "error";
    if (this.playButton) this.playButton.disabled = true;
    this.showStatus("");
    showError(this.errorBox, message);
  }

  startAnimation() {
    if (this.frame) return;
    const step = () => {
      this.transport.tick();
      this.render();
      this.frame = this.transport.playing ? window.requestAnimationFrame(step) : 0;
    };
    this.frame = window.requestAnimationFrame(step);
  }

  render() {
    const position = this.transport.position;
    const text = formatClock(position, { tenths: true });
    if (this.clockCurrent.textContent !== text) this.clockCurrent.textContent = text;
    for (const { waveform } of this.strips.values()) waveform.draw(position);
  }

  exposeDebugHandle() {
    const mixer = this;
    window.isomixMixer = Object.freeze({
      get audioContext() {
        return mixer.context;
      },
      get state() {
        return mixer.state;
      },
      get position() {
        return mixer.transport.position;
      },
      get duration() {
        return mixer.transport.duration;
      },
      settings() {
        return mixer.graph.settings();
      },
      get ranges() {
        return mixer.ranges;
      },
    });
  }
}

/** Whether the focused element uses the space bar itself (typing, buttons, lists). */
function usesSpace(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target.closest("button, a[href], select, textarea, summary, [role='button']")) return true;
  if (target instanceof HTMLInputElement) return target.type !== "range";
  return false;
}

const root = document.querySelector("[data-mixer]");
if (root) new Mixer(root);
