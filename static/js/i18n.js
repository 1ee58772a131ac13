/**
 * Translations for the ES modules: Django's JavaScript catalogue, read through one module.
 *
 * base.html loads `{% url 'javascript-catalog' %}` (django.views.i18n.JavaScriptCatalog,
 * the active language's `djangojs` catalogue) as a classic script before any module, so
 * `window.django` holds `gettext`, `ngettext`, `interpolate` and the locale's formats.
 * `makemessages -d djangojs` finds the calls below by their names, so modules import and
 * call them under these exact names:
 *
 *   import { gettext, ngettext, interpolate } from "../i18n.js";
 *   interpolate(gettext("Loading stems… %(done)s of %(total)s"), { done, total }, true);
 *
 * Without the catalogue (a page that does not load it, a unit harness) the English text
 * is returned, so nothing breaks.
 */

const catalogue = () => window.django || null;

export function gettext(message) {
  const django = catalogue();
  return django ? django.gettext(message) : message;
}

export function ngettext(singular, plural, count) {
  const django = catalogue();
  if (django) return django.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

export function pgettext(context, message) {
  const django = catalogue();
  return django ? django.pgettext(context, message) : message;
}

/** `interpolate(fmt, obj, named)` as Django's: `%(name)s` with named=true, else `%s` in order. */
export function interpolate(format, values, named = false) {
  if (named) return format.replace(/%\(\w+\)s/g, (match) => String(values[match.slice(2, -2)]));
  let index = 0;
  return format.replace(/%s/g, () => String(values[index++]));
}

/** The page's language as a BCP 47 tag ("pt-BR", "en"), for Intl formatters. */
export function pageLocale() {
  return document.documentElement.lang || "en";
}
