/**
 * Live pitch shift for the mixer's master bus (tempo with pitch kept, and transpose).
 *
 * The mixer plays every stem's AudioBufferSourceNode at playbackRate = tempo (time right,
 * pitch moved by tempo) and puts the master bus through one shifter at
 * ratio = 2^(transpose / 12) / tempo, so what is heard matches the export's ffmpeg
 * `rubberband=tempo=T:pitch=2^(st/12)`:
 *
 *   const shifter = await createPitchShifter(context);
 *   master.connect(shifter.input);
 *   shifter.output.connect(context.destination);
 *   shifter.setRatio(2 ** (transpose / 12) / tempo);
 *
 * `createPitchShifter(context)` → `PitchShifter` (AudioContext or OfflineAudioContext):
 *   .input, .output     AudioNodes to connect (stereo out; a mono input is heard in both)
 *   .setRatio(ratio, when?)  frequency factor, clamped to RATIO_MIN..RATIO_MAX (0.25..4);
 *                       applied from `when` (default: now, context seconds) by the frames
 *                       whose audio came in from then on, smoothly (see the worklet); 1 is
 *                       a sample-exact pass-through that runs no FFT
 *   .ratio              the last ratio asked for
 *   .latencySeconds     the fixed delay the shifter adds, at every ratio, 1 included (one
 *                       analysis frame: 8192 samples at 44.1 / 48 kHz, 170.7 ms at 48 kHz);
 *                       what is heard now left the sources this long ago (the playhead
 *                       shown is the sources' position minus latencySeconds × tempo)
 *   .supported          false where the browser has no AudioWorklet (or the module failed
 *                       to load: then .error says why): a plain pass-through with zero
 *                       latency, and the page disables tempo and transpose
 *   .ready              true: the shifter processes audio from the moment it is returned
 *   .stats()            Promise of `{frames, active}` from the worklet (frames analysed so
 *                       far; whether the vocoder runs), for tests and the bench
 *   .disconnect()       disconnect .output from wherever it goes (what feeds .input is
 *                       the caller's to disconnect); it can be connected again
 *
 * The worklet file is loaded by URL from this module's own folder (CSP `script-src 'self'`:
 * no blob: or data: URL, no eval), once per context.
 */

export const PROCESSOR_NAME = "isomix-pitch-shift";
export const RATIO_MIN = 0.25;
export const RATIO_MAX = 4;
/** The analysis frame is the smallest power of two at least this long (the worklet's N). */
const FRAME_SECONDS = 0.16;
const FRAME_MIN = 256;
const FRAME_MAX = 32768;

const WORKLET_URL = new URL("./pitch-shift-worklet.js", import.meta.url);

/** @type {WeakMap<BaseAudioContext, Promise<void>>} */
const loaded = new WeakMap();

/** The worklet's frame size (samples) at `sampleRate`: also its latency in samples. */
export function frameSizeFor(sampleRate) {
  let size = FRAME_MIN;
  while (size < sampleRate * FRAME_SECONDS && size < FRAME_MAX) size *= 2;
  return size;
}

function clampRatio(ratio) {
  if (!Number.isFinite(ratio) || ratio <= 0) throw new RangeError(`pitch ratio must be a positive number, not ${ratio}`);
  return Math.min(RATIO_MAX, Math.max(RATIO_MIN, ratio));
}

class PitchShifter {
  constructor({ context, input, output, node = null, latencySeconds = 0, supported = true, error = null }) {
    this.context = context;
    this.input = input;
    this.output = output;
    this.node = node;
    this.latencySeconds = latencySeconds;
    this.supported = supported;
    this.error = error;
    this.ready = true;
    this.ratio = 1;
    this.param = node ? node.parameters.get("ratio") : null;
  }

  setRatio(ratio, when = this.context.currentTime) {
    this.ratio = clampRatio(ratio);
    if (this.param) this.param.setValueAtTime(this.ratio, when);
  }

  stats() {
    if (!this.node) return Promise.resolve({ frames: 0, active: false });
    return new Promise((resolve) => {
      const port = this.node.port;
      const listener = (event) => {
        if (event.data?.type !== "stats") return;
        port.removeEventListener("message", listener);
        resolve({ frames: event.data.frames, active: event.data.active });
      };
      port.addEventListener("message", listener);
      port.start();
      port.postMessage({ type: "stats" });
    });
  }

  disconnect() {
    this.output.disconnect();
  }
}

function passThrough(context, error = null) {
  const node = context.createGain();
  return new PitchShifter({ context, input: node, output: node, supported: false, error });
}

function loadWorklet(context) {
  let promise = loaded.get(context);
  if (!promise) {
    promise = context.audioWorklet.addModule(WORKLET_URL.href);
    loaded.set(context, promise);
    promise.catch(() => loaded.delete(context));
  }
  return promise;
}

/**
 * A pitch shifter on `context`, its worklet loaded (see the module's comment).
 *
 * @param {BaseAudioContext} context
 * @param {{frameSize?: number}} [options]  the analysis frame in samples (a power of two,
 *   256..32768; default `frameSizeFor(context.sampleRate)`): larger parts closer partials
 *   (low notes at slow tempos) but smears drum hits more and adds latency
 * @returns {Promise<PitchShifter>}
 * @throws {RangeError} for a frameSize that is not such a power of two
 */
export async function createPitchShifter(context, { frameSize = frameSizeFor(context.sampleRate) } = {}) {
  if (!Number.isInteger(frameSize) || frameSize < FRAME_MIN || frameSize > FRAME_MAX || frameSize & (frameSize - 1)) {
    throw new RangeError(`frameSize must be a power of two from ${FRAME_MIN} to ${FRAME_MAX}, not ${frameSize}`);
  }
  if (!context.audioWorklet || typeof AudioWorkletNode === "undefined") return passThrough(context);
  try {
    await loadWorklet(context);
  } catch (error) {
    console.warn("The pitch-shift worklet did not load; tempo and transpose are off.", error);
    return passThrough(context, error);
  }
  const node = new AudioWorkletNode(context, PROCESSOR_NAME, {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    outputChannelCount: [2],
    channelCount: 2,
    channelCountMode: "explicit",
    channelInterpretation: "speakers",
    processorOptions: { frameSize },
  });
  const input = context.createGain();
  const output = context.createGain();
  input.connect(node).connect(output);
  return new PitchShifter({ context, input, output, node, latencySeconds: frameSize / context.sampleRate });
}
