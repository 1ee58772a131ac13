/**
 * Fetch helpers for the IsoMix REST API.
 *
 * Browser pages authenticate with the Django session; unsafe methods carry the CSRF
 * token from the `csrftoken` cookie in the `X-CSRFToken` header. The API answers errors
 * as `{"code", "message", "extra"}` (its message already in the page's language: the request
 * carries the language cookie, or the signed-in user's saved language applies); every helper
 * here rejects with an `ApiError` that carries those fields, so a page can show
 * `error.message` as it is. Messages made here (no connection, an answer without a body) are
 * translated through the JavaScript catalogue.
 */

import { gettext, interpolate } from "./i18n.js";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export class ApiError extends Error {
  /**
   * @param {string} message  human message, safe to show
   * @param {{status?: number, code?: string, extra?: object|null}} [details]
   */
  constructor(message, { status = 0, code = "error", extra = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

/** The CSRF token: the `csrftoken` cookie, else the page's `<meta name="csrf-token">`. */
export function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "csrftoken") return decodeURIComponent(rest.join("="));
  }
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

/** The message for an answer that brought none of its own (a proxy's page, no connection). */
function fallbackMessage(status) {
  if (status === 0) return gettext("The server could not be reached. Check your connection and try again.");
  if (status === 401 || status === 403) return gettext("Your session has expired. Please log in again.");
  if (status === 404) return gettext("Not found.");
  if (status === 413) return gettext("The file is too large.");
  if (status >= 500) return gettext("The server had a problem. Please try again in a moment.");
  return interpolate(gettext("The request failed (HTTP %(status)s)."), { status }, true);
}

/** Build an ApiError from a response status and its parsed JSON body (or null). */
export function errorFromResponse(status, body) {
  if (body && typeof body === "object") {
    if (typeof body.message === "string" && body.message) {
      return new ApiError(body.message, { status, code: body.code || "error", extra: body.extra ?? null });
    }
    if (typeof body.detail === "string" && body.detail) {
      return new ApiError(body.detail, { status, code: body.code || "error" });
    }
  }
  return new ApiError(fallbackMessage(status), { status });
}

async function readJson(response) {
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("json")) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * JSON request to the API.
 *
 * @param {string} url
 * @param {{method?: string, json?: unknown, signal?: AbortSignal}} [options]
 * @returns {Promise<any>} the parsed JSON body (null for an empty answer)
 * @throws {ApiError} on a network failure or a non-2xx answer
 */
export async function apiFetch(url, { method = "GET", json, signal } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", signal };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  if (!SAFE_METHODS.has(method.toUpperCase())) headers["X-CSRFToken"] = csrfToken();

  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(fallbackMessage(0), { code: "network" });
  }
  const body = await readJson(response);
  if (!response.ok) throw errorFromResponse(response.status, body);
  return body;
}

/**
 * Fetch a binary resource (an audio preview) as an ArrayBuffer, with API errors.
 *
 * @param {string} url
 * @param {{signal?: AbortSignal}} [options]
 * @returns {Promise<ArrayBuffer>}
 */
export async function fetchBinary(url, { signal } = {}) {
  return binaryFrom(fetch(url, { credentials: "same-origin", signal }));
}

/**
 * The body of a fetch() already on its way, as fetchBinary gives it.
 *
 * @param {Promise<Response>} answer
 * @returns {Promise<ArrayBuffer>}
 * @throws {ApiError} on a network failure or a non-2xx answer (an AbortError as it is)
 */
export async function binaryFrom(answer) {
  let response;
  try {
    response = await answer;
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(fallbackMessage(0), { code: "network" });
  }
  if (!response.ok) throw errorFromResponse(response.status, await readJson(response));
  return response.arrayBuffer();
}

/**
 * POST a multipart form with upload progress (fetch cannot report upload progress).
 *
 * @param {string} url
 * @param {FormData} formData
 * @param {{onProgress?: (fraction: number) => void, signal?: AbortSignal}} [options]
 * @returns {Promise<any>} the parsed JSON body of the 2xx answer
 * @throws {ApiError} on a network failure or a non-2xx answer
 */
export function uploadForm(url, formData, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "json";
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(errorFromResponse(xhr.status, xhr.response));
    });
    xhr.addEventListener("error", () => reject(new ApiError(fallbackMessage(0), { code: "network" })));
    xhr.addEventListener("abort", () => reject(new DOMException(gettext("Upload cancelled."), "AbortError")));
    if (signal) signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(formData);
  });
}

/** The message to show for any error a helper here may throw. */
export function errorMessage(error) {
  if (error instanceof ApiError) return error.message;
  return gettext("Something went wrong. Please try again.");
}

/** Show an error in an alert element (`role="alert"`); `null` clears and hides it. */
export function showError(element, error) {
  if (!element) return;
  if (error == null) {
    element.textContent = "";
    element.hidden = true;
    return;
  }
  element.hidden = false;
  element.textContent = typeof error === "string" ? error : errorMessage(error);
}
