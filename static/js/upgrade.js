/**
 * The way up when the plan says no: a refusal of the API (HTTP 402, code `quota_exceeded` — a
 * limit reached — or `plan_required` — a feature outside the plan) carries in
 * `extra.upgrade_url` the page that sells more (business/exceptions.py `upgrade_url`: the
 * pricing page). The upload box and the export panel show the refusal's message in their alert
 * and, beside it, an "Upgrade to Pro" link (an `<a>` the template renders, hidden) pointed there.
 *
 *   import { showUpgrade, upgradeUrl } from "./upgrade.js";
 *   showUpgrade(link, upgradeUrl(error));   // "" hides the link
 */

import { ApiError } from "./api.js";

const PLAN_REFUSALS = new Set(["quota_exceeded", "plan_required"]);

/** Where a refusal of the plan sends the user ("" for any other error). */
export function upgradeUrl(error) {
  if (!(error instanceof ApiError) || error.status !== 402 || !PLAN_REFUSALS.has(error.code)) return "";
  const url = error.extra && typeof error.extra.upgrade_url === "string" ? error.extra.upgrade_url : "";
  // Only a path of this site (the server sends one): never a link to another origin.
  return url.startsWith("/") && !url.startsWith("//") ? url : "";
}

/**
 * Show `link` pointed at `url`, or hide it when `url` is empty. `link` may sit in a wrapper
 * marked [data-upgrade-row], which is shown and hidden with it.
 */
export function showUpgrade(link, url) {
  if (!link) return;
  const row = link.closest("[data-upgrade-row]") || link;
  if (url) {
    link.href = url;
    row.hidden = false;
    link.hidden = false;
  } else {
    row.hidden = true;
  }
}
