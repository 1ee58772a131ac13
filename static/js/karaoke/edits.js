/**
 * The lyrics editor's edits: pure functions from lines to new lines (the input is never changed).
 *
 * Lines are the API's shape (`[{start, end, text, words: [{word, start, end}]}]`, seconds).
 * Every result keeps the rules domain/lyrics/lines.py checks on a PATCH, so a save is refused
 * only for what the user could not have known (a newer version, a limit):
 *   - times are rounded to the millisecond, 0 <= start <= end <= the song's end + END_SLACK_S;
 *   - lines in non-decreasing order of start, a line's words too;
 *   - every word within its line's times; a line's text is its words joined by single spaces;
 *   - a word is never empty and holds no whitespace.
 */

/** How far past the song's end a time may lie (s): domain/lyrics/lines.py END_SLACK_S. */
export const END_SLACK_S = 0.5;
/** One nudge (s): the editor's [ ] , . keys and buttons. */
export const NUDGE_S = 0.05;

/** Seconds rounded to the millisecond, as the API keeps them ("+ 0" turns -0 into 0). */
export function ms(seconds) {
  return Math.round(seconds * 1000) / 1000 + 0;
}

function copy(lines) {
  return lines.map((line) => ({ ...line, words: line.words.map((word) => ({ ...word })) }));
}

function retext(line) {
  line.text = line.words.map((word) => word.word).join(" ");
  return line;
}

/** A line's start and end widened to hold its words, and its text derived from them. */
function fit(line) {
  const first = line.words[0];
  const last = line.words[line.words.length - 1];
  line.start = ms(Math.min(line.start, first.start));
  line.end = ms(Math.max(line.end, line.start, ...line.words.map((word) => word.end), last.end));
  return retext(line);
}

function shift(line, delta) {
  line.start = ms(line.start + delta);
  line.end = ms(line.end + delta);
  for (const word of line.words) {
    word.start = ms(word.start + delta);
    word.end = ms(word.end + delta);
  }
}

/** The lines as a PATCH sends them: exactly the API's keys, times to the millisecond. */
export function linesBody(lines) {
  return lines.map((line) => ({
    start: ms(line.start),
    end: ms(line.end),
    text: line.words.map((word) => word.word).join(" "),
    words: line.words.map((word) => ({ word: word.word, start: ms(word.start), end: ms(word.end) })),
  }));
}

/**
 * Line `index` moved (its words with it) so that it starts at `start` (s), kept after the line
 * before it and inside the song. `push`: lines after it that would now start before it move to
 * its start (tap-to-sync); otherwise it stops at the next line's start.
 *
 * @param {object[]} lines
 * @param {number} index
 * @param {number} start  seconds
 * @param {{durationS: number, push?: boolean}} options
 */
export function lineMoved(lines, index, start, { durationS, push = false }) {
  const out = copy(lines);
  const line = out[index];
  let target = Math.max(0, start, index > 0 ? out[index - 1].start : 0);
  if (!push && index + 1 < out.length) target = Math.min(target, out[index + 1].start);
  // Its last time stays inside the song.
  const latest = Math.max(...line.words.map((word) => word.end), line.end);
  target = Math.min(target, line.start + (durationS + END_SLACK_S - latest));
  shift(line, ms(target - line.start));
  if (push) {
    for (let j = index + 1; j < out.length && out[j].start < line.start; j += 1) {
      shift(out[j], Math.min(line.start - out[j].start, durationS + END_SLACK_S - out[j].end));
    }
  }
  return out;
}

/** Line `index` nudged by `delta` seconds (see lineMoved). */
export function lineNudged(lines, index, delta, { durationS }) {
  return lineMoved(lines, index, lines[index].start + delta, { durationS });
}

/**
 * Word `wordIndex` of line `index` moved by `delta` seconds (its start and end), kept between its
 * neighbours' starts, after the line before, inside the song; its line widens to hold it.
 */
export function wordNudged(lines, index, wordIndex, delta, { durationS }) {
  const out = copy(lines);
  const line = out[index];
  const words = line.words;
  const word = words[wordIndex];
  let low = wordIndex > 0 ? words[wordIndex - 1].start : Math.max(0, index > 0 ? out[index - 1].start : 0);
  low = Math.max(low, 0);
  const high = wordIndex + 1 < words.length ? words[wordIndex + 1].start : Number.POSITIVE_INFINITY;
  const start = Math.min(Math.max(word.start + delta, low), high);
  const moved = Math.min(start - word.start, durationS + END_SLACK_S - word.end);
  word.start = ms(word.start + moved);
  word.end = ms(word.end + moved);
  fit(line);
  return out;
}

/**
 * Word `wordIndex` of line `index` replaced by what the user typed: one word, several (the
 * word's time shared among them by their lengths), or nothing (the word removed; a line's only
 * word cannot be). Returns null when there is nothing to change.
 */
export function wordFixed(lines, index, wordIndex, typed) {
  const parts = typed.trim().split(/\s+/u).filter(Boolean);
  const line = lines[index];
  const word = line.words[wordIndex];
  if (!parts.length && line.words.length === 1) return null;
  if (parts.length === 1 && parts[0] === word.word) return null;
  const out = copy(lines);
  const target = out[index];
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  let at = word.start;
  const span = word.end - word.start;
  const replacement = parts.map((part, i) => {
    const end = i === parts.length - 1 ? word.end : at + (span * part.length) / total;
    const made = { word: part, start: ms(at), end: ms(end) };
    at = end;
    return made;
  });
  target.words.splice(wordIndex, 1, ...replacement);
  retext(target);
  return out;
}

/** Line `index` split in two: the second starts at word `wordIndex` (>= 1). Null when it can't. */
export function lineSplit(lines, index, wordIndex) {
  const line = lines[index];
  if (!(wordIndex >= 1 && wordIndex < line.words.length)) return null;
  const out = copy(lines);
  const words = out[index].words;
  const first = { start: line.start, end: words[wordIndex - 1].end, text: "", words: words.slice(0, wordIndex) };
  const second = { start: words[wordIndex].start, end: line.end, text: "", words: words.slice(wordIndex) };
  first.end = ms(Math.max(first.end, ...first.words.map((word) => word.end)));
  out.splice(index, 1, retext(first), retext(second));
  return sortedLines(out);
}

/** Line `index` and the next one joined (words in order of start). Null for the last line. */
export function linesMerged(lines, index) {
  if (index + 1 >= lines.length) return null;
  const out = copy(lines);
  const [a, b] = out.splice(index, 2);
  const words = [...a.words, ...b.words].map((word, order) => ({ word, order }));
  words.sort((x, y) => x.word.start - y.word.start || x.order - y.order);
  const merged = {
    start: ms(Math.min(a.start, b.start)),
    end: ms(Math.max(a.end, b.end)),
    text: "",
    words: words.map((item) => item.word),
  };
  out.splice(index, 0, retext(merged));
  return out;
}

/**
 * Lines in non-decreasing order of start, the order kept among equal starts. A split of a line
 * that overlapped the next (backing vocals) can put its second half after that one.
 */
export function sortedLines(lines) {
  return lines
    .map((line, order) => ({ line, order }))
    .sort((x, y) => x.line.start - y.line.start || x.order - y.order)
    .map((item) => item.line);
}
