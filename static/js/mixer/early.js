/**
 * The stems' decodes that the page's inline <head> script started (templates/projects/
 * _early_decode.js), in the mixer's terms; and the same work for where it did not run.
 *
 * The inline script runs before anything is fetched, so the decodes begin as each preview's
 * bytes arrive, not after the page's modules and first style pass. It cannot import
 * api.js, so its failures are raw (the failed Response, fetch's TypeError); `early` turns
 * them into api.js's ApiError, as fetchBinary would have thrown.
 *
 * Exports `early`: `{context, decoding}`, the page's AudioContext (made by the inline script,
 * the one place it is made) and a Map of stem kind → Promise<AudioBuffer> (rejecting with an
 * ApiError or the decoder's DOMException), or null when the page has no previews or the
 * browser no Web Audio; and `decodeStem`, for a strip that is not in the Map.
 */

import { binaryFrom, fetchBinary } from "../api.js";

/** Download and decode one preview. */
export async function decodeStem(context, url) {
  return context.decodeAudioData(await fetchBinary(url));
}

/** A decode from the inline script, failing as `decodeStem` would. */
function adopt(decoded) {
  return decoded.catch((failure) => {
    if (failure instanceof Response) return binaryFrom(Promise.resolve(failure)); // its ApiError
    if (failure instanceof TypeError) return binaryFrom(Promise.reject(failure)); // the network's
    throw failure;
  });
}

function adoptEarly(started) {
  if (!started) return null;
  const decoding = new Map();
  for (const [kind, decoded] of started.decoding) {
    const promise = adopt(decoded);
    promise.catch(() => {}); // awaited (and shown) by the mixer; not "unhandled" meanwhile
    decoding.set(kind, promise);
  }
  return { context: started.context, decoding };
}

export const early = adoptEarly(window.isomixEarly);
