/**
 * The lyrics API, through ../api.js (session, CSRF, `{"code", "message", "extra"}` errors as
 * ApiError). `url` is the project's "/api/v1/projects/<id>/lyrics/" (the view's data-lyrics-url).
 *
 *   lyricsGet(url, {version})         GET: the lyrics body (`?version=N`: that version's lines)
 *   lyricsAlign(url, {text, language, filename})   PUT → 202: a job aligns the text to the
 *                                     song ("" transcribes it again); 402 quota_exceeded,
 *                                     400 invalid_lyrics
 *   lyricsEdit(url, {lines, version, language})    PATCH → 200: a new version (source
 *                                     "edited"); 409 lyrics_conflict when `version` is not
 *                                     the newest
 *   downloadUrl(url, format)          the file (`lrc`, `lrc-words`, `srt`, `vtt`, `json`)
 *
 * The body: `{status, progress, stage, error, language, source, model, version,
 * versions: [{number, source, created_at}], lines: [{start, end, text, words: [{word,
 * start, end}]}]}`.
 */

import { apiFetch } from "../api.js";

/** The download formats, as the API names them. */
export const DOWNLOAD_FORMATS = ["lrc", "lrc-words", "srt", "vtt", "json"];

function withQuery(url, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${url}${url.includes("?") ? "&" : "?"}${text}` : url;
}

/** @returns {Promise<object>} the lyrics body */
export function lyricsGet(url, { version = null, signal } = {}) {
  return apiFetch(withQuery(url, { version }), { signal });
}

/** @returns {Promise<object>} the lyrics body of the queued job (202) */
export function lyricsAlign(url, { text, language = "", filename = "" }) {
  const json = { text, language };
  if (filename) json.filename = filename;
  return apiFetch(url, { method: "PUT", json });
}

/** @returns {Promise<object>} the lyrics body of the new version */
export function lyricsEdit(url, { lines, version, language }) {
  const json = { lines, version };
  if (language !== undefined) json.language = language;
  return apiFetch(url, { method: "PATCH", json });
}

export function downloadUrl(url, format) {
  return withQuery(url, { format });
}
