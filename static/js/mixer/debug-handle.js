/**
 * `window.isomixMixer`: the mixer page's handle for tests, the bench and the console.
 *
 *   .audioContext       the page's one AudioContext (e.g. .currentTime)        read-only
 *   .state              the mixer root's data-state (loading | ready | playing | paused | error)
 *   .position           the playhead, in seconds of the song (what is heard now)
 *   .duration           the song's length (s); .ranges: the served data-mixer-ranges, parsed
 *   .settings()         the whole mix settings, the contract's shape: `{"master_gain_db",
 *                       "stems": {kind: {"gain_db", "mute", "solo", "pan"}}, "tempo",
 *                       "transpose", "loop": {"start_s", "end_s", "enabled"} | null}`
 *   .setTempo(x), .setTranspose(st)   as the controls do (snapped to the served steps);
 *                       return whether the mixer took the value
 *   .setLoop(startS, endS), .clearLoop()   a loop region, switched on / none
 *   .play(), .pause()   the transport (play returns a Promise)
 *   .levels()           `{master: {peak, clipped}, stems: {kind: peak}}`: linear peaks of the
 *                       last ~50 ms; `clipped` is the master's clip latch
 *   .saved              a Promise resolved once the last change is saved on the server
 *                       (true; false when that save failed)
 *   .analysis           the last analysis body read (analysis.js), or null
 *   .beatGrid(kind)     where that stem's waveform drew its beat lines: `{beats: [x, ...],
 *                       downbeats: [x, ...], width}` in CSS px from the canvas's left, or null
 *   .metronome          `{muted, gainDb, countIn (on or off), ready, beatsPerBar, interval (s
 *                       between beats at the song's tempo), scheduled: [{time, song, accent}]
 *                       (context and song seconds of the beat clicks scheduled), lastCountIn:
 *                       {clicks: [time, ...], end} | null}`, a snapshot
 *   .clock              the transport's clock now: `{t0, offset, tempo, outputDelay}`; the
 *                       song's first sample (from offset) is heard at t0 + outputDelay
 * Changes made through it are saved like the user's.
 */

/** @param {object} mixer  main.js's Mixer */
export function exposeDebugHandle(mixer) {
  window.isomixMixer = Object.freeze({
    get audioContext() {
      return mixer.context;
    },
    get state() {
      return mixer.state;
    },
    get position() {
      return mixer.transport.position;
    },
    get duration() {
      return mixer.transport.duration;
    },
    get ranges() {
      return mixer.ranges;
    },
    get saved() {
      return mixer.store ? mixer.store.saved : Promise.resolve(true);
    },
    get analysis() {
      return mixer.analysis;
    },
    get metronome() {
      const metronome = mixer.metronome;
      return {
        muted: metronome.muted,
        gainDb: metronome.gainDb,
        countIn: metronome.countInEnabled,
        ready: metronome.ready,
        beatsPerBar: metronome.barBeats,
        interval: metronome.interval,
        scheduled: metronome.scheduled.map((click) => ({ ...click })),
        lastCountIn: metronome.countIn,
      };
    },
    get clock() {
      const { t0, offset, tempo, outputDelay } = mixer.transport;
      return { t0, offset, tempo, outputDelay };
    },
    beatGrid: (kind) => {
      const strip = mixer.strips.get(kind);
      const drawn = strip && strip.waveform.gridDrawn;
      return drawn ? { beats: [...drawn.beats], downbeats: [...drawn.downbeats], width: drawn.width } : null;
    },
    settings: () => mixer.getSettings(),
    setTempo: (tempo) => mixer.setTempo(tempo),
    setTranspose: (semitones) => mixer.setTranspose(semitones),
    setLoop: (startS, endS) => mixer.setLoopRegion({ start: startS, end: endS, enabled: true }),
    clearLoop: () => mixer.setLoopRegion(null),
    play: () => (mixer.usable && !mixer.transport.playing ? mixer.toggle() : Promise.resolve()),
    pause: () => {
      if (mixer.usable && mixer.transport.playing) mixer.transport.pause();
    },
    levels: () => {
      const peaks = mixer.transport.playing ? mixer.readLevels() : mixer.graph.peakLevels();
      return { master: { peak: peaks.master, clipped: mixer.masterMeter.clipped }, stems: peaks.stems };
    },
  });
}
