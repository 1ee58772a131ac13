/**
 * Where the song is in its lyrics: pure functions of the lines and a song time, nothing else.
 *
 * Lines are the API's (`[{start, end, text, words: [{word, start, end}]}]`, seconds of the
 * song, lines in non-decreasing order of start, words too: domain/lyrics/lines.py keeps that
 * for every saved document, and the editor keeps it for its working copy). The view calls
 * `karaokeAt(lines, t)` once a frame with `t` = the transport's `position` (the audio clock),
 * so what it shows is a function of the song position alone: no timer of its own, no drift.
 *
 *   karaokeAt(lines, t) → {
 *     line,       index of the line shown large (-1: no lines)
 *     next,       index of the line shown below it (-1: none)
 *     word,       index of the word being sung in `line` (-1: before its first word)
 *     fill,       how much of that word is sung, 0..1 (its start to its end)
 *     countdown,  dots still shown before `line` starts (0..COUNTDOWN_DOTS; 0: none)
 *     started,    whether `line` has started (false while it is only upcoming)
 *   }
 */

/** A line that follows this much silence (s, the previous line's end to its start) is counted in. */
export const COUNTDOWN_GAP_S = 4;
/** The dots shown before such a line, one going every COUNTDOWN_DOT_S of the song. */
export const COUNTDOWN_DOTS = 3;
/** Seconds of the song each countdown dot stands for ("beat-ish": one a second). */
export const COUNTDOWN_DOT_S = 1;
/**
 * After a line ends, it stays up this long (s) before a line after a long gap takes its place:
 * the eye is still on its last word.
 */
export const LINGER_S = 1;

/**
 * The index of the last item whose `start` is at or before `t` (binary search), or -1.
 *
 * @param {{start: number}[]} items  in non-decreasing order of start
 * @param {number} t  seconds
 */
export function lastStarted(items, t) {
  let low = 0;
  let high = items.length; // the answer + 1 lies in [low, high]
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (items[mid].start <= t) low = mid + 1;
    else high = mid;
  }
  return low - 1;
}

/** How much of `word` is sung at `t`: 0 before its start, 1 from its end, linear between. */
export function wordFill(word, t) {
  if (t < word.start) return 0;
  if (t >= word.end || word.end <= word.start) return 1;
  return (t - word.start) / (word.end - word.start);
}

/** Whether line `index` follows a gap long enough to be counted in (the first line always is). */
export function countedIn(lines, index) {
  if (index <= 0) return index === 0;
  return lines[index].start - lines[index - 1].end >= COUNTDOWN_GAP_S;
}

/** Dots left before a counted-in line starting at `start` (s), at song time `t` (s). */
export function countdownDots(start, t) {
  const left = start - t;
  if (left <= 0 || left > COUNTDOWN_DOTS * COUNTDOWN_DOT_S) return 0;
  return Math.min(COUNTDOWN_DOTS, Math.ceil(left / COUNTDOWN_DOT_S - 1e-9));
}

/**
 * What the karaoke view shows at song time `t`.
 *
 * @param {{start: number, end: number, words: {start: number, end: number}[]}[]} lines
 * @param {number} t  the song position (s)
 */
export function karaokeAt(lines, t) {
  const none = { line: -1, next: -1, word: -1, fill: 0, countdown: 0, started: false };
  if (!lines.length) return none;
  let line = lastStarted(lines, t);
  let started = line >= 0;
  if (line < 0) {
    line = 0; // before the first line: it is shown, waiting
  } else if (line + 1 < lines.length && countedIn(lines, line + 1) && t >= lines[line].end + LINGER_S) {
    line += 1; // a long gap: the next line is shown (counted in) once this one has lingered
    started = false;
  }
  const current = lines[line];
  const countdown = !started && countedIn(lines, line) ? countdownDots(current.start, t) : 0;
  const word = started ? lastStarted(current.words, t) : -1;
  const fill = word >= 0 ? wordFill(current.words[word], t) : 0;
  return { line, next: line + 1 < lines.length ? line + 1 : -1, word, fill, countdown, started };
}
