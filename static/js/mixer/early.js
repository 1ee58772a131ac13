/**
 * The mixer page's first script: it starts downloading and decoding the stems while the
 * rest of the page loads, because decoding them is most of the wait before Play works.
 *
 * The template loads it as `<script type="module" async>` in <head> before the classic
 * scripts there (which hold the parser up), right after the stems' preload links, so it runs
 * as soon as it and api.js are fetched; main.js imports it too and gets the same module
 * instance, with the decodes already on their way.
 *
 * Reads, in <head>: `link[rel=preload][data-stem-preview=<kind>]` (one per stem, href: the
 * preview's URL) with `data-sample-rate` (the stems' rate: the AudioContext runs at it, so
 * decoding does not resample; where the output device runs at another rate the browser
 * resamples in real time instead, a much smaller cost).
 *
 * Exports `early`: `{context, decoding}`, the page's AudioContext and a Map of stem kind →
 * Promise<AudioBuffer> (rejecting with api.js's ApiError or the decoder's DOMException),
 * or null when the page has no such links or no Web Audio.
 */

import { fetchBinary } from "../api.js";

/**
 * The page's AudioContext at `sampleRate` where the browser allows it, not running until Play
 * (where autoplay is allowed it would start at once, rendering silence while the stems decode).
 *
 * @param {number} sampleRate  Hz, or NaN for the browser's own rate
 * @returns {AudioContext | null}  null without the Web Audio API
 */
export function createContext(sampleRate) {
  const AudioContextClass = window.AudioContext || window.webkitAudioContext;
  if (!AudioContextClass) return null;
  let context = null;
  if (sampleRate >= 8000 && sampleRate <= 96000) {
    try {
      context = new AudioContextClass({ sampleRate });
    } catch {
      // A rate this browser does not run at: its own, and decoding resamples.
    }
  }
  context = context || new AudioContextClass();
  if (context.state === "running") context.suspend().catch(() => {});
  return context;
}

/** Download and decode one preview. */
export async function decodeStem(context, url) {
  return context.decodeAudioData(await fetchBinary(url));
}

function decodeEarly() {
  const links = [...document.querySelectorAll("link[data-stem-preview]")];
  if (!links.length) return null;
  const context = createContext(Number.parseInt(links[0].dataset.sampleRate, 10));
  if (!context) return null;
  performance.mark("isomix:decode-start");
  const decoding = new Map();
  for (const link of links) {
    const promise = decodeStem(context, link.href);
    promise.catch(() => {}); // awaited (and shown) by the mixer; not "unhandled" meanwhile
    decoding.set(link.dataset.stemPreview, promise);
  }
  return { context, decoding };
}

export const early = decodeEarly();
