/**
 * The mixer's practice tools, shared by main.js's Mixer (its base class): loop, tempo and
 * key, and the keyboard's actions. Kept apart from main.js only to keep each module short.
 *
 * Loop markup (templates/projects/detail.html): [data-ruler] <canvas> (loop.js),
 * [data-action=loop] <button aria-pressed> (looping on/off), [data-action=loop-clear],
 * [data-loop-readout] (the region as text). Tempo and key markup: [data-practice]
 * (practice.js). The pitch shifter is pitch-shift.js's `createPitchShifter(context)`.
 *
 * Tempo and key (the contract's meaning, shared with the export): every source plays at
 * playbackRate = tempo, so time is right and the pitch moves by tempo; the pitch shifter on
 * the master bus then moves it by 2^(transpose/12) / tempo. A ratio of 1 passes through.
 */

import { formatClock } from "../format.js";
import { gettext, interpolate } from "../i18n.js";
import { LoopRuler } from "./loop.js";
import { PracticeControls } from "./practice.js";

function snap(value, { min, max, step }) {
  const clamped = Math.min(max, Math.max(min, value));
  return Number((min + Math.round((clamped - min) / step) * step).toFixed(6));
}

export class MixerControls {
  constructor(root) {
    this.root = root;
    this.tempo = 1;
    this.transpose = 0;
    /** @type {{start: number, end: number, enabled: boolean} | null} */
    this.loop = null;
    this.shifter = null;
    this.practiceSupported = false;
  }

  // ---------------------------------------------------------------- tempo and key

  wirePractice() {
    this.practice = new PracticeControls(this.root.querySelector("[data-practice]"), {
      onTempo: (tempo) => this.setTempo(tempo),
      onTranspose: (semitones) => this.setTranspose(semitones),
      onReset: () => this.resetPractice(),
    });
  }

  /** Load the pitch shifter and put it after the master bus; without it, tempo and key are off. */
  async setUpShifter() {
    let shifter = null;
    try {
      const module = await import("./pitch-shift.js");
      shifter = await module.createPitchShifter(this.context);
    } catch (error) {
      console.warn("isomix: no pitch shifter:", error);
    }
    if (!shifter || shifter.supported === false) {
      this.practice.disable(
        gettext("Tempo and key need a browser with AudioWorklet (a current Chrome, Edge, Firefox or Safari)."),
      );
      return;
    }
    this.shifter = shifter;
    this.graph.insertShifter(shifter);
    this.practiceSupported = true;
    this.applyPitch();
  }

  /**
   * The shifter's ratio for the tempo and key now, from the same instant the sources' rate
   * changed (the worklet applies it to the frames holding the re-pitched audio). The shifter
   * delays what is heard by a fixed latency at every ratio: the playhead allows for it.
   */
  applyPitch() {
    if (!this.shifter) return;
    this.shifter.setRatio(2 ** (this.transpose / 12) / this.tempo, this.context.currentTime);
    this.transport.setOutputDelay(Number(this.shifter.latencySeconds) || 0);
  }

  /** Returns whether the tempo is now `tempo` (snapped to the served step). */
  setTempo(tempo, { user = true } = {}) {
    const value = snap(Number(tempo), this.ranges.tempo);
    if (!Number.isFinite(value)) return false;
    if (!this.practiceSupported && value !== 1) return false;
    if (user && !this.usable) return false;
    this.tempo = value;
    this.transport.setTempo(value);
    this.applyPitch();
    this.practice.show({ tempo: this.tempo, transpose: this.transpose });
    if (user) this.changed();
    return true;
  }

  /** Returns whether the key is now `semitones` (a whole number within the served range). */
  setTranspose(semitones, { user = true } = {}) {
    const value = snap(Math.round(Number(semitones)), this.ranges.transpose);
    if (!Number.isFinite(value)) return false;
    if (!this.practiceSupported && value !== 0) return false;
    if (user && !this.usable) return false;
    this.transpose = value;
    this.applyPitch();
    this.practice.show({ tempo: this.tempo, transpose: this.transpose });
    if (user) this.changed();
    return true;
  }

  resetPractice() {
    if (!this.usable || (this.tempo === 1 && this.transpose === 0)) return;
    this.setTempo(1, { user: false });
    this.setTranspose(0, { user: false });
    this.changed();
  }

  // ---------------------------------------------------------------- loop

  wireLoop() {
    this.loopButton = this.root.querySelector('[data-action="loop"]');
    this.loopClear = this.root.querySelector('[data-action="loop-clear"]');
    this.loopReadout = this.root.querySelector("[data-loop-readout]");
    this.ruler = new LoopRuler(this.root.querySelector("[data-ruler]"), {
      minLength: this.ranges.loop_min_s,
      onSeek: (seconds) => this.seek(seconds),
      onLoop: ({ start, end }) => this.setLoopRegion({ start, end, enabled: true }),
      onPreview: (region) => {
        for (const strip of this.strips.values()) strip.waveform.setLoop(region || this.loop);
      },
    });
    this.loopButton.addEventListener("click", () => this.toggleLoop());
    this.loopClear.addEventListener("click", () => this.setLoopRegion(null));
    this.showLoop();
  }

  /**
   * Set the loop region (seconds; `null`: none). A region is kept within the song and must
   * last `loop_min_s`; returns whether it was taken.
   */
  setLoopRegion(region, { user = true } = {}) {
    if (user && !this.usable) return false;
    let next = null;
    if (region) {
      const limit = this.transport.loopLimit || this.transport.duration;
      const start = Math.max(0, Number(region.start));
      const end = Math.min(limit, Number(region.end));
      if (!Number.isFinite(start) || !Number.isFinite(end) || end - start < this.ranges.loop_min_s) return false;
      next = { start, end, enabled: region.enabled !== false };
    }
    this.loop = next;
    this.transport.setLoop(next);
    this.ruler.setLoop(next);
    for (const strip of this.strips.values()) strip.waveform.setLoop(next);
    this.showLoop();
    if (user) this.changed();
    return true;
  }

  toggleLoop() {
    if (!this.usable) return;
    if (!this.loop) {
      this.showStatus(gettext("No loop yet: drag across the ruler above the waveforms, or press A and B."));
      return;
    }
    this.setLoopRegion({ ...this.loop, enabled: !this.loop.enabled });
  }

  /** A: the loop starts at the playhead (and ends where it did, or at the song's end). */
  loopStartHere() {
    if (!this.usable) return;
    const here = this.transport.position;
    const min = this.ranges.loop_min_s;
    const end = this.loop && this.loop.end - here >= min ? this.loop.end : this.transport.duration;
    if (!this.setLoopRegion({ start: here, end, enabled: true })) {
      this.showStatus(gettext("Too close to the end of the song for a loop."));
    }
  }

  /** B: the loop ends at the playhead (and starts where it did, or at the song's start). */
  loopEndHere() {
    if (!this.usable) return;
    const here = this.transport.position;
    const min = this.ranges.loop_min_s;
    const start = this.loop && here - this.loop.start >= min ? this.loop.start : 0;
    if (!this.setLoopRegion({ start, end: here, enabled: true })) {
      this.showStatus(gettext("Too close to the start of the song for a loop."));
    }
  }

  showLoop() {
    const loop = this.loop;
    this.root.dataset.loop = loop ? (loop.enabled ? "on" : "off") : "none";
    this.loopButton.setAttribute("aria-pressed", String(Boolean(loop && loop.enabled)));
    this.loopClear.hidden = !loop;
    this.loopReadout.textContent = loop
      ? interpolate(
          gettext("%(start)s to %(end)s"),
          { start: formatClock(loop.start, { tenths: true }), end: formatClock(loop.end, { tenths: true }) },
          true,
        )
      : gettext("No loop");
  }

  // ---------------------------------------------------------------- keyboard

  /** What keyboard.js calls. */
  shortcutActions() {
    const stepTempo = (direction) => this.setTempo(this.tempo + direction * this.ranges.tempo.step);
    const stepKey = (direction) => this.setTranspose(this.transpose + direction * this.ranges.transpose.step);
    const strip = (kind, action) => {
      const target = this.strips.get(kind);
      if (!target || !this.usable) return;
      target[action]();
      this.showAudibility();
      this.changed();
    };
    return {
      togglePlay: () => this.toggle(),
      seekBy: (seconds) => this.seek(this.transport.position + seconds),
      seekTo: (seconds) => this.seek(seconds),
      toggleMute: (kind) => strip(kind, "toggleMute"),
      toggleSolo: (kind) => strip(kind, "toggleSolo"),
      toggleLoop: () => this.toggleLoop(),
      loopStartHere: () => this.loopStartHere(),
      loopEndHere: () => this.loopEndHere(),
      tempoStep: stepTempo,
      transposeStep: stepKey,
      resetPractice: () => this.resetPractice(),
    };
  }
}
