/**
 * The billing buttons of the pricing and account pages: subscribe (Stripe Checkout) and
 * manage the subscription (Stripe's billing portal: card, invoices, cancellation).
 *
 * Markup (templates/accounts/pricing.html, account.html):
 *   button[data-billing-checkout]  data-url (POST /api/v1/billing/checkout/), data-interval
 *                                  "month" | "year": the body is `{"interval": ...}`
 *   button[data-billing-portal]    data-url (POST /api/v1/billing/portal/), no body
 *   [data-billing-error]           role="alert": the API's message when it refuses (billing
 *                                  off 503, Stripe unreachable 502, no customer yet 409)
 *
 * A click disables every billing button and says "Opening Stripe…"; the POST carries the CSRF
 * token (api.js), and the answer's `{"url"}` is opened with `location.assign(url)`: Stripe's
 * page, which comes back to the account page (`?checkout=done` after a payment). The URL is
 * followed only when it is https:// (Stripe's) or a path of this site.
 */

import { apiFetch, showError } from "./api.js";
import { gettext } from "./i18n.js";

const buttons = Array.from(document.querySelectorAll("[data-billing-checkout], [data-billing-portal]"));
const errorBox = document.querySelector("[data-billing-error]");

function safeUrl(url) {
  if (typeof url !== "string") return "";
  if (url.startsWith("https://")) return url;
  return url.startsWith("/") && !url.startsWith("//") ? url : "";
}

/** The button whose request is on its way (its label says so), or null. */
let pending = null;

function setBusy(button) {
  if (pending) {
    pending.textContent = pending.dataset.label;
    pending.removeAttribute("aria-busy");
  }
  pending = button;
  for (const each of buttons) each.disabled = Boolean(button);
  if (button) {
    button.dataset.label = button.textContent;
    button.textContent = gettext("Opening Stripe…");
    button.setAttribute("aria-busy", "true");
  }
}

async function open(button) {
  showError(errorBox, null);
  setBusy(button);
  const json = "billingCheckout" in button.dataset ? { interval: button.dataset.interval } : undefined;
  try {
    const answer = await apiFetch(button.dataset.url, { method: "POST", json });
    const url = safeUrl(answer && answer.url);
    if (!url) throw new Error("The answer has no URL to open.");
    window.location.assign(url);
  } catch (error) {
    setBusy(null);
    showError(errorBox, error);
  }
}

for (const button of buttons) button.addEventListener("click", () => open(button));
// Back from Stripe, the browser may show this page as it was left: the buttons work again.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) setBusy(null);
});
