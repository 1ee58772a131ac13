/**
 * Fetch and decode every stem's preview; then give each waveform its envelope.
 *
 * Where the time goes when the mixer opens (a 3-min song, 4 stems of ~130 kb/s MP3): the
 * downloads, then decodeAudioData, which is most of it and needs the CPU. So:
 *   - the template preloads the previews (<link rel=preload as=fetch crossorigin>), so they
 *     download while the page's scripts load; `fetchBinary` here picks up those responses;
 *   - early.js, the page's first script, starts decoding them as soon as it is fetched,
 *     before the page's other modules and before the markup is parsed;
 *   - the URLs are in the markup (each strip's data-preview-url, the file's own signed link):
 *     no API round trip and no redirect before the audio comes;
 *   - each stem is decoded as soon as its own bytes are in, all of them concurrently, by a
 *     context running at the previews' sample rate (no resampling while decoding);
 *   - the peaks (waveforms) are asked for only once the audio is decoded (`drawWaveforms`),
 *     so that the server does not build them while the page decodes; a stem without a peaks
 *     file gets its envelope from its audio.
 */

import { apiFetch } from "../api.js";
import { decodeStem } from "./early.js";
import { peaksFromBuffer } from "./waveform.js";

/**
 * @param {{context: BaseAudioContext, strips: import("./strips.js").StemStrip[],
 *   decoding?: Map<string, Promise<AudioBuffer>>,
 *   onDecoded: (done: number, total: number) => void}} options
 *   decoding: what early.js started, by kind (a strip not in it is fetched here)
 * @returns {Promise<Map<string, AudioBuffer>>} one buffer per strip's kind
 * @throws the first failure (an ApiError from the download, a DOMException from decoding)
 */
export async function loadStems({ context, strips, decoding = new Map(), onDecoded }) {
  let done = 0;
  const buffers = new Map();
  await Promise.all(
    strips.map(async (strip) => {
      const buffer = await (decoding.get(strip.kind) || decodeStem(context, strip.previewUrl));
      buffers.set(strip.kind, buffer);
      done += 1;
      onDecoded(done, strips.length);
    }),
  );
  return buffers;
}

/**
 * Each strip's waveform from its peaks file (or, without one, from its decoded audio).
 *
 * @param {{strips: import("./strips.js").StemStrip[], buffers: Map<string, AudioBuffer>,
 *   peaksPerSecond: number}} options  peaksPerSecond: the served rate (for the fallback)
 */
export function drawWaveforms({ strips, buffers, peaksPerSecond }) {
  for (const strip of strips) {
    const fromAudio = () => {
      const buffer = buffers.get(strip.kind);
      if (buffer) strip.waveform.setPeaks(peaksFromBuffer(buffer, peaksPerSecond));
    };
    if (!strip.peaksUrl) {
      fromAudio();
      continue;
    }
    apiFetch(strip.peaksUrl)
      .then((peaks) => (peaks && Array.isArray(peaks.peaks) ? strip.waveform.setPeaks(peaks) : fromAudio()))
      .catch(fromAudio);
  }
}
