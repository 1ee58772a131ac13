
// The mixer page's first script, inline in <head> ahead of the style sheets and the modules:
// decoding the stems is most of the wait before Play works, so each preview is decoded as
// soon as its bytes are in. A script file would wait its turn behind everything else the
// page fetches and the first style pass; this one runs as the parser reaches it.
//
// It reads the <link rel=preload data-stem-preview=KIND data-sample-rate=HZ> above it and
// leaves window.isomixEarly = {context, decoding}: the AudioContext (at the stems' rate, so
// decoding does not resample; suspended until Play) and a Map of kind -> Promise<AudioBuffer>
// that rejects with the failed Response, fetch's TypeError or the decoder's DOMException.
// early.js adopts it (and turns those into the mixer's errors). This is the one place the
// page's AudioContext is made.
//
// At most `decoders` decode at once: each decode holds one of the renderer's pool threads
// for its whole length, and Chromium's pool has max(3, cores) of them. Four at once on a
// 2-core machine left none for the page's other pool work: its first text layout then
// waited ~0.7 s on the font service, and the four took no less time than two at a time.
(() => {
  "use strict";
  const links = document.querySelectorAll("link[data-stem-preview]");
  const AudioContextClass = window.AudioContext || window.webkitAudioContext;
  if (!links.length || !AudioContextClass) return;
  const sampleRate = Number.parseInt(links[0].dataset.sampleRate, 10);
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
  const decoders = Math.max(2, (navigator.hardwareConcurrency || 2) - 1);
  let busy = 0;
  const waiting = [];
  const decode = async (bytes) => {
    if (busy < decoders) busy += 1;
    else await new Promise((turn) => waiting.push(turn)); // the finished decode's slot passes on
    try {
      return await context.decodeAudioData(bytes);
    } finally {
      const next = waiting.shift();
      if (next) next();
      else busy -= 1;
    }
  };
  performance.mark("isomix:decode-start");
  const decoding = new Map();
  for (const link of links) {
    const decoded = fetch(link.href, { credentials: "same-origin" }).then((response) =>
      response.ok ? response.arrayBuffer().then(decode) : Promise.reject(response),
    );
    decoded.catch(() => {}); // awaited (and shown) by the mixer; not "unhandled" meanwhile
    decoding.set(link.dataset.stemPreview, decoded);
  }
  window.isomixEarly = { context, decoding };
})();
