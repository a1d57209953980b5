// The interactive spectrogram of ui/spectrogram_view: plain JavaScript, no build step.
// Streamlit calls the default export again whenever the data from Python changes; the view
// built on the first call is kept per parentElement, so the sound plays on across reruns.
// Positions are in the picture's own pixels (data.axes.image), whatever size it is shown at.
// Python's analysis/audio/axes.py maps them to times and frequencies: time is linear across
// the plot, and for frequency Python sends the value at every pixel row's edge, so no
// scale's formula (log, mel) is written here.

const NOTES = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"];
const DRAG_PX = 5; // screen pixels a press must move to become a box rather than a click
const FLAT_BOX_PX = 4; // a box flatter than this (picture pixels) keeps the whole band
const NO_DATA = 255; // level code of a cell without a value
const ZOOM_IDLE_MS = 300; // a wheel zoom is sent once the wheel rests this long
const PINCH_PX = 30; // two fingers closer than this at first are not a pinch (too jumpy)
const PINCH_LIMIT = 20; // one pinch zooms at most this many times in or out
const MINUS = "\u2212";
const OFF_KEY = "percept.spectrogram.layersOff"; // layers turned off, kept in the browser
const OFF_AT_FIRST = ["Formants", "Onsets"];
const TRACK_COLOURS = {
  "Pitch (F0)": "#76ff03", "Notes (pYIN)": "#18ffff", F1: "#ff5252", F2: "#ffab40", F3: "#ffee58",
};
const LINE_TRACKS = ["Pitch (F0)", "Notes (pYIN)"]; // drawn as lines; formants as dots
const LANE_NAMES = {
  waveform: "Waveform", tags: "Sounds", words: "Words", chords: "Chords", chroma: "Chroma",
};
const views = new WeakMap();

// --- the picture's axes, as Python sends them ----------------------------------------------

export function xOf(axes, seconds) {
  const [left, , width] = axes.plot;
  return left + ((seconds - axes.start_s) / (axes.end_s - axes.start_s)) * width;
}

export function timeAt(axes, x) {
  const [left, , width] = axes.plot;
  return axes.start_s + ((x - left) / width) * (axes.end_s - axes.start_s);
}

/** Frequency (Hz) at picture y: interpolated between the two nearest row edges' frequencies
 * (axes.row_edges_hz, from the plot's bottom edge up, one per pixel row edge). */
export function freqAt(axes, y) {
  const [, top, , height] = axes.plot;
  const edges = axes.row_edges_hz;
  const rows = ((top + height - y) / height) * (edges.length - 1); // up from the bottom edge
  const i = Math.min(Math.max(Math.floor(rows), 0), edges.length - 2);
  return edges[i] + (rows - i) * (edges[i + 1] - edges[i]);
}

/** The frequency band the plot shows, Hz: [bottom, top]. */
function band(axes) {
  return [axes.row_edges_hz[0], axes.row_edges_hz[axes.row_edges_hz.length - 1]];
}

/** The time range of a zoom by `factor` (< 1: in) that keeps time `seconds` in place. */
export function zoomedRange(axes, seconds, factor) {
  const start = seconds - (seconds - axes.start_s) * factor;
  return [Math.max(0, start), seconds + (axes.end_s - seconds) * factor];
}

/** Nearest equal-tempered note, A4 = 440 Hz: "A4", "C♯5"; "" below the audible range. */
export function noteName(hz) {
  if (!(hz >= 16)) return "";
  const midi = Math.round(69 + 12 * Math.log2(hz / 440));
  return NOTES[midi % 12] + (Math.floor(midi / 12) - 1);
}

/** dB at picture point (x, y) from the pooled grid; NaN where there is no value. */
export function levelAt(levels, axes, x, y) {
  const [left, top, width, height] = axes.plot;
  const column = Math.floor(((x - left) / width) * levels.columns);
  const fraction = (top + height - y) / height; // from the plot's lower edge
  const row = Math.floor(((fraction - levels.bottom) / (1 - levels.bottom)) * levels.rows);
  const clamp = (i, n) => Math.min(Math.max(i, 0), n - 1);
  const cell = clamp(row, levels.rows) * levels.columns + clamp(column, levels.columns);
  const code = levels.codes[cell];
  return code === NO_DATA ? NaN : levels.floor_db + code * levels.step_db;
}

function formatDb(db) {
  if (Number.isNaN(db)) return "no data";
  const rounded = Math.round(db);
  return `${rounded < 0 ? MINUS + -rounded : rounded} dB`;
}

/** Picture y of frequency `hz` (the inverse of freqAt); NaN outside the plot's band. */
export function yOf(axes, hz) {
  const [, top, , height] = axes.plot;
  const edges = axes.row_edges_hz;
  const n = edges.length - 1;
  if (!(hz >= edges[0] && hz <= edges[n])) return NaN;
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] <= hz) lo = mid;
    else hi = mid;
  }
  const rows = lo + (hz - edges[lo]) / (edges[hi] - edges[lo] || 1);
  return top + height - (rows / n) * height;
}

const INTERVALS = [
  "unison", "minor second", "major second", "minor third", "major third", "perfect fourth",
  "tritone", "perfect fifth", "minor sixth", "major sixth", "minor seventh", "major seventh",
];

/** The interval between two frequencies: {semitones, cents, name}, e.g. 1000 and 1500 Hz
 * give 7.02 semitones, 702 cents, "a perfect fifth" (the nearest equal-tempered one). */
export function interval(f1, f2) {
  const cents = 1200 * Math.log2(Math.max(f1, f2) / Math.min(f1, f2));
  const steps = Math.round(cents / 100);
  const octaves = Math.floor(steps / 12);
  const rest = INTERVALS[steps % 12];
  let name;
  if (octaves === 0) name = `a ${rest}`;
  else {
    const whole = octaves === 1 ? "an octave" : `${octaves} octaves`;
    name = steps % 12 === 0 ? whole : `${whole} and a ${rest}`;
  }
  return { semitones: cents / 100, cents, name };
}

/** Peaks of the peak column nearest time `t`: [{hz, db}], loudest first. */
export function peaksAt(peaks, t) {
  if (!peaks || !peaks.times.length) return [];
  let best = 0;
  peaks.times.forEach((time, i) => {
    if (Math.abs(time - t) < Math.abs(peaks.times[best] - t)) best = i;
  });
  return peaks.hz[best]
    .map((hz, i) => ({ hz, db: peaks.db[best][i] }))
    .filter((p) => p.hz !== null);
}

/** The peak (Hz) nearest `hz` within `cents` among the peak columns in [t0, t1]; null if none. */
export function snapToPeak(peaks, t0, t1, hz, cents = 100) {
  if (!peaks) return null;
  let best = null;
  let bestCents = cents;
  peaks.times.forEach((time, i) => {
    if (time < t0 || time > t1) return;
    for (const candidate of peaks.hz[i]) {
      if (candidate === null) continue;
      const off = Math.abs(1200 * Math.log2(candidate / hz));
      if (off < bestCents) [best, bestCents] = [candidate, off];
    }
  });
  return best;
}

/** What a measure box spans: times t0 < t1 (s), frequencies f1 < f2 (Hz), each snapped to a
 * spectral peak within a semitone when there is one (`snapped1`, `snapped2`). */
export function measureBox(axes, peaks, box) {
  const t0 = timeAt(axes, box.x0);
  const t1 = timeAt(axes, box.x1);
  const raw1 = freqAt(axes, box.y1);
  const raw2 = freqAt(axes, box.y0);
  // Peaks are found every few pixels: look a little beyond a narrow box too.
  const pad = Math.max(0, (peakSpacing(peaks) - (t1 - t0)) / 2);
  const p1 = snapToPeak(peaks, t0 - pad, t1 + pad, raw1);
  let p2 = snapToPeak(peaks, t0 - pad, t1 + pad, raw2);
  if (p2 !== null && p2 === p1) p2 = null; // one peak cannot be both edges
  const low = { hz: p1 ?? raw1, snapped: p1 !== null };
  const high = { hz: p2 ?? raw2, snapped: p2 !== null };
  // In a thin box each edge may snap past the other: f1 stays the lower.
  const [a, b] = low.hz <= high.hz ? [low, high] : [high, low];
  return { t0, t1, f1: a.hz, f2: b.hz, snapped1: a.snapped, snapped2: b.snapped };
}

function peakSpacing(peaks) {
  return peaks && peaks.times.length > 1 ? peaks.times[1] - peaks.times[0] : 0;
}

function formatHz(hz) {
  return hz >= 100 ? `${Math.round(hz)} Hz` : `${hz.toFixed(1)} Hz`;
}

/** The measure readout: Δt, 1/Δt as Hz and BPM, f1, f2, Δf and their interval. */
export function describeMeasure(m) {
  const dt = m.t1 - m.t0;
  const rate = 1 / dt;
  const note = (hz, snapped) => [formatHz(hz), noteName(hz), snapped && "(peak)"].filter(Boolean).join(" ");
  const parts = [
    `Δt ${dt.toFixed(3)} s (${(1000 * dt).toFixed(1)} ms)`,
    `1/Δt ${rate.toFixed(2)} Hz = ${(60 * rate).toFixed(1)} BPM`,
    `f1 ${note(m.f1, m.snapped1)}`,
    `f2 ${note(m.f2, m.snapped2)}`,
    `Δf ${formatHz(m.f2 - m.f1)}`,
  ];
  // No interval to 0 Hz (a linear scale's bottom): its ratio is infinite.
  if (Math.min(m.f1, m.f2) > 0) {
    const { semitones, cents, name } = interval(m.f1, m.f2);
    parts.push(`${semitones.toFixed(2)} semitones = ${Math.round(cents)} cents: ${name}`);
  }
  return parts.join(" · ");
}

/** Index of the span (sorted [start, end, text]) under time `t`, or -1. */
export function spanAt(spans, t) {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid][0] > t) hi = mid - 1;
    else if (spans[mid][1] <= t) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** The value of a track (times, hz) at the point nearest `t` within `tolerance` s; NaN if none. */
function trackAt(track, t, tolerance) {
  let best = -1;
  track.times.forEach((time, i) => {
    if (Math.abs(time - t) <= tolerance && (best < 0 || Math.abs(time - t) < Math.abs(track.times[best] - t))) best = i;
  });
  return best < 0 || track.hz[best] === null ? NaN : track.hz[best];
}

// --- the view ---------------------------------------------------------------------------

function createView(parent) {
  const find = (selector) => parent.querySelector(selector);
  const v = {
    root: find(".sv"),
    stage: find(".sv-stage"),
    picture: find(".sv-picture"),
    box: find(".sv-box"),
    playhead: find(".sv-playhead"),
    play: find(".sv-play"),
    loop: find(".sv-loop"),
    reset: find(".sv-reset"),
    clock: find(".sv-clock"),
    readout: find(".sv-readout"),
    audio: find(".sv-audio"),
    overlay: find(".sv-overlay"),
    lanes: find(".sv-lanes"),
    lanehead: find(".sv-lanehead"),
    measureButton: find(".sv-measure"),
    sliceButton: find(".sv-slice-toggle"),
    layerBox: find(".sv-layers"),
    measured: find(".sv-measured"),
    slicePanel: find(".sv-slice-panel"),
    slice: find(".sv-slice"),
    peaksOut: find(".sv-peaks"),
    wordStrip: find(".sv-words"),
    layers: null,
    layersText: null,
    off: new Set(readOff()),
    wordIndex: -1,
    pointerX: null, // picture x under the pointer while it is over the plot, for the slice
    axes: null,
    levels: null,
    levelsText: null,
    audioStart: 0,
    press: null,
    zoom: null, // a wheel or pinch zoom in progress: {seconds, factor, span?}
    zoomTimer: 0,
    frame: 0,
    listening: new AbortController(), // aborted on unmount: every listener below goes
    send: () => {},
  };
  const { signal } = v.listening;
  const span = () => v.axes.end_s - v.axes.start_s;
  const decimals = () => (span() < 10 ? 3 : span() < 100 ? 2 : 1);
  const now = () => v.audioStart + v.audio.currentTime;
  const inPlot = ({ x, y }) => {
    const [left, top, width, height] = v.axes.plot;
    return x >= left && x <= left + width && y >= top && y <= top + height;
  };
  const clampToPlot = ({ x, y }) => {
    const [left, top, width, height] = v.axes.plot;
    return {
      x: Math.min(Math.max(x, left), left + width),
      y: Math.min(Math.max(y, top), top + height),
    };
  };
  const toPicture = (event) => {
    const rect = v.picture.getBoundingClientRect();
    const [width, height] = v.axes.image;
    return {
      x: ((event.clientX - rect.left) * width) / rect.width,
      y: ((event.clientY - rect.top) * height) / rect.height,
    };
  };
  // Percent of the picture, so the overlays follow it at any displayed size.
  const place = (element, x, y, w, h) => {
    const [width, height] = v.axes.image;
    element.style.left = `${(100 * x) / width}%`;
    element.style.top = `${(100 * y) / height}%`;
    element.style.width = w === undefined ? "" : `${(100 * w) / width}%`;
    element.style.height = `${(100 * h) / height}%`;
  };

  v.draw = () => {
    if (!v.axes) return;
    const t = now();
    const [, top, , height] = v.axes.plot;
    const shown = Boolean(v.audio.getAttribute("src")) && t >= v.axes.start_s && t <= v.axes.end_s;
    v.playhead.hidden = v.lanehead.hidden = !shown;
    if (shown) {
      place(v.playhead, xOf(v.axes, t), top, undefined, height);
      v.lanehead.style.left = `${(100 * xOf(v.axes, t)) / v.axes.image[0]}%`;
    }
    followWords(t);
    if (v.pointerX === null) drawSlice(xOf(v.axes, t));
    const d = decimals();
    v.clock.textContent =
      `${t.toFixed(d)} s · view ${v.axes.start_s.toFixed(d)}–${v.axes.end_s.toFixed(d)} s`;
  };
  // --- layers over the picture, lanes under it, the transcript strip ---------------------
  const groupOf = (name) => (/^F\d$/.test(name) ? "Formants" : name);
  v.drawOverlay = () => {
    const canvas = v.overlay;
    const [width, height] = v.axes.image;
    if (canvas.width !== width || canvas.height !== height) [canvas.width, canvas.height] = [width, height];
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, width, height);
    if (!v.layers) return;
    const [left, top, plotWidth, plotHeight] = v.axes.plot;
    g.save();
    g.beginPath();
    g.rect(left, top, plotWidth, plotHeight);
    g.clip();
    const vertical = (seconds, y0, y1, colour, dash) => {
      const x = xOf(v.axes, seconds);
      g.strokeStyle = colour;
      g.setLineDash(dash);
      g.beginPath();
      g.moveTo(x, y0);
      g.lineTo(x, y1);
      g.stroke();
    };
    if (!v.off.has("Word boundaries")) {
      g.lineWidth = 1;
      for (const [start] of v.layers.words) vertical(start, top, top + plotHeight, "rgba(255,255,255,0.75)", [4, 4]);
    }
    g.lineWidth = 2;
    if (!v.off.has("Beats")) for (const t of v.layers.beats) vertical(t, top, top + plotHeight * 0.12, "#00e5ff", []);
    if (!v.off.has("Onsets")) for (const t of v.layers.onsets) vertical(t, top + plotHeight * 0.92, top + plotHeight, "#ff80ab", []);
    g.setLineDash([]);
    for (const track of v.layers.tracks) {
      if (v.off.has(groupOf(track.name))) continue;
      const pitch = LINE_TRACKS.includes(track.name);
      const points = track.times.map((t, i) => [xOf(v.axes, t), track.hz[i] === null ? NaN : yOf(v.axes, track.hz[i])]);
      if (pitch) drawLine(g, points, "rgba(0,0,0,0.8)", 5);
      if (pitch) drawLine(g, points, TRACK_COLOURS[track.name], 2.5);
      else drawDots(g, points, TRACK_COLOURS[track.name] ?? "#fff", 2);
    }
    g.restore();
  };
  const buildToggles = () => {
    const groups = [...new Set(v.layers.tracks.map((t) => groupOf(t.name)))];
    if (v.layers.words.length) groups.push("Word boundaries");
    if (v.layers.beats.length) groups.push("Beats");
    if (v.layers.onsets.length) groups.push("Onsets");
    v.layerBox.replaceChildren(...groups.map((name) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.dataset.layer = name;
      box.checked = !v.off.has(name);
      box.addEventListener("change", () => {
        if (box.checked) v.off.delete(name);
        else v.off.add(name);
        writeOff(v.off);
        v.drawOverlay();
      });
      label.append(box, ` ${name === "Formants" ? "Formants F1–F3" : name}`);
      return label;
    }));
  };
  const buildLanes = () => {
    for (const lane of v.lanes.querySelectorAll(".sv-lane")) lane.remove();
    const [left, , plotWidth] = v.axes.plot;
    const width = v.axes.image[0];
    const lane = (kind) => {
      const row = document.createElement("div");
      row.className = "sv-lane";
      row.dataset.lane = kind;
      const name = document.createElement("span");
      name.className = "sv-lane-name";
      name.textContent = LANE_NAMES[kind];
      const track = document.createElement("div");
      track.className = "sv-track";
      track.style.left = `${(100 * left) / width}%`;
      track.style.width = `${(100 * plotWidth) / width}%`;
      row.append(name, track);
      v.lanes.append(row);
      return track;
    };
    const spans = (kind, items) => {
      const track = lane(kind);
      const span = v.axes.end_s - v.axes.start_s;
      items.forEach(([start, end, text], i) => {
        const a = Math.max(start, v.axes.start_s);
        const b = Math.min(end, v.axes.end_s);
        if (b <= a) return;
        const item = document.createElement("div");
        item.className = "sv-span";
        item.dataset.index = i;
        item.style.left = `${(100 * (a - v.axes.start_s)) / span}%`;
        item.style.width = `${(100 * (b - a)) / span}%`;
        item.textContent = item.title = text.trim();
        track.append(item);
      });
    };
    if (v.layers.waveform) drawWaveform(lane("waveform"), v.layers.waveform);
    if (v.layers.tags.length) spans("tags", v.layers.tags);
    if (v.layers.chords.length) spans("chords", v.layers.chords);
    if (v.layers.chroma) drawChroma(lane("chroma"), v.layers.chroma, v.axes);
    if (v.layers.words.length) spans("words", v.layers.words);
  };
  const buildWordStrip = () => {
    v.wordIndex = -1;
    v.wordStrip.replaceChildren(...v.layers.words.flatMap(([start, , text], i) => {
      const word = document.createElement("span");
      word.dataset.index = i;
      word.textContent = text.trim();
      word.addEventListener("click", () => {
        seek(start);
        if (v.audio.paused) toggle();
      });
      return [word, " "];
    }));
    v.wordStrip.hidden = !v.layers.words.length;
  };
  // The word being said: highlighted in the words lane and the transcript strip.
  const followWords = (t) => {
    const index = v.layers ? spanAt(v.layers.words, t) : -1;
    if (index === v.wordIndex) return;
    for (const old of v.root.querySelectorAll(".sv-now")) old.classList.remove("sv-now");
    v.wordIndex = index;
    if (index < 0) return;
    v.lanes.querySelector(`[data-lane="words"] [data-index="${index}"]`)?.classList.add("sv-now");
    const word = v.wordStrip.querySelector(`[data-index="${index}"]`);
    if (!word) return;
    word.classList.add("sv-now");
    const strip = v.wordStrip; // scroll the strip only, never the page
    const top = word.offsetTop - strip.offsetTop; // both from the same offsetParent
    if (top < strip.scrollTop || top > strip.scrollTop + strip.clientHeight - word.offsetHeight) {
      strip.scrollTop = top - strip.clientHeight / 3;
    }
  };
  v.setLayers = (layers) => {
    v.layers = layers;
    buildToggles();
    buildLanes();
    buildWordStrip();
  };
  const laneTime = (event) => {
    const track = event.target.closest(".sv-lane")?.querySelector(".sv-track");
    if (!track) return null;
    const rect = track.getBoundingClientRect();
    const fraction = (event.clientX - rect.left) / rect.width;
    return v.axes.start_s + Math.min(Math.max(fraction, 0), 1) * span();
  };
  v.lanes.addEventListener("click", (event) => {
    const t = laneTime(event);
    if (t !== null) seek(t);
  }, { signal });
  v.lanes.addEventListener("pointermove", (event) => {
    const t = laneTime(event);
    if (t === null) return;
    const lane = event.target.closest(".sv-lane").dataset.lane;
    const parts = [`t = ${t.toFixed(decimals())} s`];
    const named = { words: "word", tags: "sound", chords: "chord" };
    const items = { words: v.layers.words, tags: v.layers.tags, chords: v.layers.chords }[lane];
    const index = items ? spanAt(items, t) : -1;
    if (index >= 0) parts.push(`${named[lane]} “${items[index][2].trim()}”`);
    if (lane === "chroma") {
      const rect = event.target.closest(".sv-lane").querySelector(".sv-track").getBoundingClientRect();
      const pc = Math.min(11, Math.max(0, Math.floor((12 * (rect.bottom - event.clientY)) / rect.height)));
      const strength = chromaAt(v.layers.chroma, t, pc);
      parts.push(`note ${NOTES[pc]}${Number.isNaN(strength) ? "" : ` ${Math.round(100 * strength)}%`}`);
    }
    v.readout.textContent = parts.join(" · ");
  }, { signal });
  v.lanes.addEventListener("pointerleave", () => (v.readout.textContent = ""), { signal });

  // --- measure and slice ---------------------------------------------------------------
  const setMeasuring = (on) => {
    v.measuring = on;
    v.measureButton.setAttribute("aria-pressed", String(on));
    v.stage.classList.toggle("sv-measuring", on);
    if (!on) {
      v.measured.hidden = true;
      v.box.hidden = true;
    }
  };
  const showMeasure = (box) => {
    if (box.x1 - box.x0 < 1 || box.y1 - box.y0 < 1) return;
    v.measured.textContent = describeMeasure(measureBox(v.axes, v.layers?.peaks, box));
    v.measured.hidden = false;
  };
  const setSlicing = (on) => {
    v.slicing = on;
    v.sliceButton.setAttribute("aria-pressed", String(on));
    v.slicePanel.hidden = !on;
    if (on) drawSlice(v.pointerX ?? xOf(v.axes, now()));
  };
  function drawSlice(x) {
    if (!v.slicing || !v.axes) return;
    const [left, , plotWidth] = v.axes.plot;
    const clamped = Math.min(Math.max(x, left), left + plotWidth);
    const t = timeAt(v.axes, clamped);
    const [low, high] = band(v.axes); // peaks off the picture (DC, a zoomed band) go unnamed
    const peaks = peaksAt(v.layers?.peaks, t).filter((p) => p.hz >= low && p.hz <= high);
    drawSpectrum(v.slice, v.axes, v.levels, clamped, peaks);
    const named = peaks.slice(0, 5).map((p) => `${formatHz(p.hz)} ${noteName(p.hz)} (${formatDb(p.db)})`);
    v.peaksOut.textContent =
      `Spectrum at ${t.toFixed(decimals())} s${v.pointerX === null ? " (playhead)" : " (pointer)"}` +
      (named.length ? ` · peaks: ${named.join(" · ")}` : " · no clear peak");
  }
  v.drawSlice = drawSlice;
  v.measureButton.addEventListener("click", () => setMeasuring(!v.measuring), { signal });
  v.sliceButton.addEventListener("click", () => setSlicing(!v.slicing), { signal });

  const seek = (seconds) => {
    const t = Math.min(Math.max(seconds, v.axes.start_s), v.axes.end_s);
    v.audio.currentTime = Math.max(0, t - v.audioStart);
    v.draw();
  };
  // One frame per display refresh while playing; nothing goes to the server.
  const tick = () => {
    v.frame = 0;
    if (v.audio.paused) return v.draw();
    if (now() >= v.axes.end_s) {
      if (v.loop.checked) seek(v.axes.start_s);
      else {
        v.audio.pause();
        seek(v.axes.end_s);
      }
    }
    v.draw();
    v.frame = requestAnimationFrame(tick);
  };
  const toggle = () => {
    if (!v.audio.getAttribute("src")) return;
    if (!v.audio.paused) return v.audio.pause();
    if (now() < v.axes.start_s || now() >= v.axes.end_s - 1e-3) seek(v.axes.start_s);
    v.audio.play().catch(() => {}); // refused (no sound device, autoplay rules): stays paused
  };
  const showReadout = (point) => {
    if (!inPlot(point)) {
      v.readout.textContent = "";
      return;
    }
    const hz = freqAt(v.axes, point.y);
    const t = timeAt(v.axes, point.x);
    const parts = [`t = ${t.toFixed(decimals())} s`, `${Math.round(hz)} Hz`];
    if (noteName(hz)) parts.push(noteName(hz));
    if (v.levels) parts.push(formatDb(levelAt(v.levels, v.axes, point.x, point.y)));
    // What the shown layers have there: the pitch and its note, the word.
    const pixelSeconds = (4 * span()) / v.axes.plot[2];
    for (const track of v.layers?.tracks ?? []) {
      if (!LINE_TRACKS.includes(track.name) || v.off.has(track.name)) continue;
      const f0 = trackAt(track, t, pixelSeconds);
      const what = track.name === "Pitch (F0)" ? "pitch" : "note";
      if (!Number.isNaN(f0)) parts.push(`${what} ${Math.round(f0)} Hz ${noteName(f0)}`);
    }
    const word = v.layers ? spanAt(v.layers.words, t) : -1;
    if (word >= 0) parts.push(`word “${v.layers.words[word][2].trim()}”`);
    v.readout.textContent = parts.join(" · ");
  };
  const showBox = (a, b) => {
    const [, top, , height] = v.axes.plot;
    const flat = !v.measuring && Math.abs(a.y - b.y) < FLAT_BOX_PX; // a measure is exact
    const y0 = flat ? top : Math.min(a.y, b.y);
    const y1 = flat ? top + height : Math.max(a.y, b.y);
    place(v.box, Math.min(a.x, b.x), y0, Math.abs(a.x - b.x), y1 - y0);
    v.box.hidden = false;
    return { x0: Math.min(a.x, b.x), x1: Math.max(a.x, b.x), y0, y1 };
  };
  // Scroll with Ctrl (a trackpad pinch is that too) or pinch with two fingers: time zooms
  // around the pointer; the box previews a zoom in, and the new view is asked for at the end.
  const previewZoom = () => {
    const { seconds, factor } = v.zoom;
    const [start, end] = zoomedRange(v.axes, seconds, factor);
    const [, top, , height] = v.axes.plot;
    v.box.hidden = factor >= 1;
    if (factor < 1) {
      place(v.box, xOf(v.axes, start), top, xOf(v.axes, end) - xOf(v.axes, start), height);
    }
    v.readout.textContent = `zoom ${factor < 1 ? "in" : "out"} ×${(1 / factor).toFixed(1)}`;
  };
  const sendZoom = () => {
    if (!v.zoom) return; // given up meanwhile (pointercancel)
    const { seconds, factor } = v.zoom;
    v.zoom = null;
    if (Math.abs(Math.log(factor)) < 0.01) return void (v.box.hidden = true);
    const [start, end] = zoomedRange(v.axes, seconds, factor);
    const [low, high] = band(v.axes); // time only: the band stays
    v.send("change", { kind: "zoom", start_s: start, end_s: end, fmin_hz: low, fmax_hz: high });
  };
  v.stage.addEventListener(
    "wheel",
    (event) => {
      if (!v.axes || !(event.ctrlKey || event.metaKey)) return; // a plain wheel scrolls the page
      const point = toPicture(event);
      if (!inPlot(point)) return;
      event.preventDefault(); // not the browser's page zoom
      const lines = event.deltaMode === WheelEvent.DOM_DELTA_LINE;
      v.zoom ??= { seconds: timeAt(v.axes, point.x), factor: 1 };
      v.zoom.factor *= Math.exp(event.deltaY * (lines ? 0.05 : 0.002));
      previewZoom();
      clearTimeout(v.zoomTimer);
      v.zoomTimer = setTimeout(sendZoom, ZOOM_IDLE_MS);
    },
    { passive: false, signal },
  );
  const fingers = new Map(); // pointer id -> {x, y} (client) of each pointer down, for a pinch
  const fingerSpan = () => {
    const [a, b] = [...fingers.values()];
    return Math.max(Math.hypot(a.x - b.x, a.y - b.y), 1); // fingers held diagonally count too
  };

  v.stage.addEventListener("pointerdown", (event) => {
    if (!v.axes || event.button !== 0) return;
    const point = toPicture(event);
    if (!inPlot(point)) return;
    event.preventDefault(); // no text selection or image drag
    v.stage.setPointerCapture(event.pointerId);
    v.root.focus({ preventScroll: true });
    fingers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (fingers.size === 2) {
      v.press = null; // a second finger: a pinch, not a box
      if (fingerSpan() < PINCH_PX) return;
      const [a, b] = [...fingers.values()];
      const middle = toPicture({ clientX: (a.x + b.x) / 2, clientY: event.clientY });
      v.zoom = { seconds: timeAt(v.axes, middle.x), factor: 1, span: fingerSpan() };
      return;
    }
    v.press = { x: event.clientX, y: event.clientY, point, dragging: false };
  }, { signal });
  v.stage.addEventListener("pointermove", (event) => {
    if (!v.axes) return;
    if (fingers.has(event.pointerId)) fingers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (v.zoom?.span && fingers.size === 2) {
      const factor = v.zoom.span / fingerSpan();
      v.zoom.factor = Math.min(Math.max(factor, 1 / PINCH_LIMIT), PINCH_LIMIT);
      return previewZoom();
    }
    const point = toPicture(event);
    const press = v.press;
    if (press && !press.dragging) {
      press.dragging = Math.hypot(event.clientX - press.x, event.clientY - press.y) >= DRAG_PX;
    }
    if (press?.dragging) {
      const box = showBox(press.point, clampToPlot(point));
      if (v.measuring) showMeasure(box);
    }
    showReadout(press ? clampToPlot(point) : point);
    v.pointerX = inPlot(point) ? point.x : null;
    drawSlice(v.pointerX ?? xOf(v.axes, now()));
  }, { signal });
  v.stage.addEventListener("pointerup", (event) => {
    fingers.delete(event.pointerId);
    if (v.zoom?.span) {
      if (!fingers.size) sendZoom();
      return;
    }
    const press = v.press;
    v.press = null;
    if (!press) return;
    const point = clampToPlot(toPicture(event));
    if (!press.dragging) {
      if (v.measuring) v.measured.hidden = v.box.hidden = true;
      return seek(timeAt(v.axes, point.x));
    }
    const box = showBox(press.point, point);
    if (v.measuring) return showMeasure(box); // the box stays, measured; nothing is sent
    // No zoom from a press that hardly moved across, nor from a finger swiping up or down.
    const across = Math.abs(event.clientX - press.x);
    const swipe = event.pointerType === "touch" && Math.abs(event.clientY - press.y) > across;
    if (across < DRAG_PX || swipe || box.x1 - box.x0 < 1) return void (v.box.hidden = true);
    // The box stays drawn until Python sends the new view.
    v.send("change", {
      kind: "zoom",
      start_s: timeAt(v.axes, box.x0),
      end_s: timeAt(v.axes, box.x1),
      fmin_hz: freqAt(v.axes, box.y1),
      fmax_hz: freqAt(v.axes, box.y0),
    });
  }, { signal });
  v.stage.addEventListener("pointercancel", (event) => {
    fingers.delete(event.pointerId);
    clearTimeout(v.zoomTimer); // a wheel zoom waiting to be sent is given up too
    v.press = v.zoom = null;
    v.box.hidden = true;
  }, { signal });
  v.stage.addEventListener("pointerleave", () => {
    if (!v.press) v.readout.textContent = "";
    v.pointerX = null;
    drawSlice(xOf(v.axes, now()));
  }, { signal });
  v.root.addEventListener("keydown", (event) => {
    if (!v.axes || event.target !== v.root) return; // buttons handle their own keys
    if (event.altKey || event.ctrlKey || event.metaKey) return; // the browser's shortcuts
    const step = span() / 20; // a twentieth of the view: a visible move
    const moves = {
      ArrowLeft: -step,
      ArrowRight: step,
      Home: -Infinity,
      End: Infinity,
    };
    if (event.key === " ") toggle();
    else if (event.key === "m" || event.key === "M") setMeasuring(!v.measuring);
    else if (event.key === "s" || event.key === "S") setSlicing(!v.slicing);
    else if (event.key in moves) seek(now() + moves[event.key]);
    else if (event.key === "Escape" && (v.press || v.measuring)) {
      v.press = null; // a box given up, or a measure cleared
      v.box.hidden = v.measured.hidden = true;
    }
    else return;
    event.preventDefault(); // no page scroll
  }, { signal });
  v.play.addEventListener("click", toggle, { signal });
  v.reset.addEventListener("click", () => v.send("change", { kind: "reset" }), { signal });
  const label = () => {
    v.play.textContent = v.audio.paused ? "▶ Play" : "▮▮ Pause";
  };
  v.audio.addEventListener("play", () => {
    label();
    if (!v.frame) v.frame = requestAnimationFrame(tick);
  }, { signal });
  v.audio.addEventListener("pause", () => {
    label();
    v.draw();
  }, { signal });
  v.audio.addEventListener("emptied", label, { signal }); // a new source stops without a "pause"
  v.audio.addEventListener("ended", () => {
    if (!v.loop.checked) return;
    seek(v.axes.start_s);
    v.audio.play().catch(() => {});
  }, { signal });
  v.audio.addEventListener("seeked", () => v.draw(), { signal });
  v.audio.addEventListener("loadedmetadata", () => v.draw(), { signal });
  return v;
}

function update(v, data) {
  const axesChanged = JSON.stringify(data.axes) !== JSON.stringify(v.axes);
  const playing = !v.audio.paused;
  const seconds = v.audioStart + v.audio.currentTime; // in the file, before the new view
  v.axes = data.axes;
  v.audioStart = data.audio_start_s;
  if (v.picture.getAttribute("src") !== data.picture) v.picture.src = data.picture;
  if (!data.audio) {
    v.audio.pause();
    v.audio.removeAttribute("src");
    v.audio.load(); // else the element keeps the old sound loaded
  } else if (v.audio.getAttribute("src") !== data.audio) {
    // A new selection: carry on from the same moment if the new view shows it, else from
    // its start, and keep playing if it was (a zoom does not stop the sound).
    v.audio.src = data.audio;
    if (seconds > v.axes.start_s && seconds < v.axes.end_s) {
      v.audio.currentTime = seconds - v.audioStart;
    }
    if (playing) v.audio.play().catch(() => {});
  }
  v.play.disabled = v.loop.disabled = !data.audio;
  const levelsText = data.levels ? JSON.stringify(data.levels) : null;
  if (levelsText !== v.levelsText) {
    v.levelsText = levelsText;
    v.levels = data.levels && {
      ...data.levels,
      codes: Uint8Array.from(atob(data.levels.codes), (c) => c.charCodeAt(0)),
    };
  }
  const layersText = JSON.stringify(data.layers);
  if (axesChanged || layersText !== v.layersText) {
    v.layersText = layersText;
    v.setLayers(data.layers);
  }
  if (axesChanged) {
    v.box.hidden = v.measured.hidden = true;
    v.readout.textContent = ""; // it was about the old view
  }
  v.drawOverlay();
  v.draw();
  v.drawSlice(v.pointerX ?? xOf(v.axes, v.audioStart + v.audio.currentTime)); // as v.draw does
}

// --- drawing helpers ----------------------------------------------------------------------

function readOff() {
  try {
    return JSON.parse(localStorage.getItem(OFF_KEY)) ?? OFF_AT_FIRST;
  } catch {
    return OFF_AT_FIRST; // storage refused (private mode): the defaults, every time
  }
}

function writeOff(off) {
  try {
    localStorage.setItem(OFF_KEY, JSON.stringify([...off]));
  } catch {
    // storage refused: the choice lasts as long as the page
  }
}

/** A polyline through [x, y] points, broken where y is NaN (unvoiced). */
function drawLine(g, points, colour, width) {
  g.strokeStyle = colour;
  g.lineWidth = width;
  g.lineJoin = g.lineCap = "round";
  g.beginPath();
  let open = false;
  for (const [x, y] of points) {
    if (Number.isNaN(y)) {
      open = false;
      continue;
    }
    if (open) g.lineTo(x, y);
    else g.moveTo(x, y);
    open = true;
  }
  g.stroke();
}

function drawDots(g, points, colour, radius) {
  g.fillStyle = colour;
  g.strokeStyle = "rgba(0,0,0,0.7)";
  g.lineWidth = 1;
  for (const [x, y] of points) {
    if (Number.isNaN(y)) continue;
    g.beginPath();
    g.arc(x, y, radius, 0, 2 * Math.PI);
    g.fill();
    g.stroke();
  }
}

/** The waveform lane: each column's minimum to maximum, on a canvas one pixel a column. */
function drawWaveform(track, [low, high]) {
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(low.length, 1);
  canvas.height = 96;
  const g = canvas.getContext("2d");
  const y = (value) => ((1 - (value ?? 0)) / 2) * canvas.height;
  g.fillStyle = getComputedStyle(track).color || "#444";
  g.globalAlpha = 0.8;
  low.forEach((a, i) => {
    const top = y(high[i]);
    g.fillRect(i, top, 1, Math.max(y(a) - top, 1));
  });
  track.append(canvas);
}

/** Strength (0–1) of pitch class `pc` in the chroma frame nearest time `t`; NaN if none. */
function chromaAt(chroma, t, pc) {
  let best = -1;
  chroma.times.forEach((time, i) => {
    if (best < 0 || Math.abs(time - t) < Math.abs(chroma.times[best] - t)) best = i;
  });
  return best < 0 || chroma.values[pc][best] === null ? NaN : chroma.values[pc][best];
}

/** The chroma lane: 12 rows (C at the bottom), each frame a column at its time, darker when
 * stronger. */
function drawChroma(track, chroma, axes) {
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(Math.round(axes.plot[2]), 1);
  canvas.height = 12;
  canvas.style.imageRendering = "pixelated";
  const g = canvas.getContext("2d");
  const span = axes.end_s - axes.start_s;
  const { times, values } = chroma;
  times.forEach((time, i) => {
    const half = i + 1 < times.length ? (times[i + 1] - time) / 2 : i > 0 ? (time - times[i - 1]) / 2 : span / 2;
    const x0 = ((time - half - axes.start_s) / span) * canvas.width;
    const x1 = ((time + half - axes.start_s) / span) * canvas.width;
    for (let pc = 0; pc < 12; pc++) {
      const value = values[pc][i] ?? 0;
      g.fillStyle = `rgba(94, 53, 177, ${value.toFixed(2)})`;
      g.fillRect(x0, 11 - pc, Math.max(x1 - x0, 1), 1);
    }
  });
  track.append(canvas);
}

const NICE_HZ = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

/** The spectrum slice: dB (from the levels grid's column at picture x) against frequency on
 * the picture's own frequency scale, the named peaks marked. */
function drawSpectrum(canvas, axes, levels, x, peaks) {
  const scale = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * scale);
  const height = Math.round(canvas.clientHeight * scale);
  if (!width || !height) return;
  if (canvas.width !== width || canvas.height !== height) [canvas.width, canvas.height] = [width, height];
  const g = canvas.getContext("2d");
  const colour = getComputedStyle(canvas).color || "#222";
  g.clearRect(0, 0, width, height);
  g.font = `${11 * scale}px sans-serif`;
  g.fillStyle = g.strokeStyle = colour;
  const pad = 4 * scale;
  const axisHeight = 16 * scale;
  const [, top, , plotHeight] = axes.plot;
  // Across: the fraction of the plot's height (bottom to top), so log and mel stay as drawn.
  const across = (fraction) => pad + fraction * (width - 2 * pad);
  const fractionOf = (hz) => (top + plotHeight - yOf(axes, hz)) / plotHeight;
  const plotBottom = height - axisHeight;
  let lastLabel = -Infinity;
  g.globalAlpha = 0.6;
  for (const hz of NICE_HZ) {
    const f = fractionOf(hz);
    if (Number.isNaN(f)) continue;
    const px = across(f);
    g.fillRect(px, plotBottom, 1, 4 * scale);
    const text = hz >= 1000 ? `${hz / 1000}k` : `${hz}`;
    if (px - lastLabel > 40 * scale && px + g.measureText(text).width < width) {
      g.fillText(text, px + 2 * scale, height - 3 * scale);
      lastLabel = px;
    }
  }
  g.globalAlpha = 1;
  if (!levels) return;
  const [left, , plotWidth] = axes.plot;
  const column = Math.min(Math.max(Math.floor(((x - left) / plotWidth) * levels.columns), 0), levels.columns - 1);
  const top_db = levels.floor_db + (NO_DATA - 1) * levels.step_db;
  const yOfDb = (db) => pad + ((top_db - db) / (top_db - levels.floor_db || 1)) * (plotBottom - 2 * pad);
  g.lineWidth = 1.5 * scale;
  g.strokeStyle = "#1e88e5";
  g.beginPath();
  let open = false;
  for (let row = 0; row < levels.rows; row++) {
    const code = levels.codes[row * levels.columns + column];
    const fraction = levels.bottom + ((row + 0.5) / levels.rows) * (1 - levels.bottom);
    if (code === NO_DATA || fraction < 0) {
      open = false;
      continue;
    }
    const point = [across(fraction), yOfDb(levels.floor_db + code * levels.step_db)];
    if (open) g.lineTo(...point);
    else g.moveTo(...point);
    open = true;
  }
  g.stroke();
  g.fillStyle = colour;
  g.fillText(`${formatDb(top_db)}`, pad, pad + 10 * scale);
  g.fillText(`${formatDb(levels.floor_db)}`, pad, plotBottom - pad);
  g.fillStyle = "#d81b60";
  const labelled = []; // boxes of the labels drawn: a label that would overlap one is left out
  for (const peak of peaks.slice(0, 5)) {
    const f = fractionOf(peak.hz);
    if (Number.isNaN(f)) continue;
    const px = across(f);
    const py = yOfDb(Math.min(Math.max(peak.db, levels.floor_db), top_db));
    g.beginPath();
    g.arc(px, py, 3.5 * scale, 0, 2 * Math.PI);
    g.fill();
    const label = `${formatHz(peak.hz)} ${noteName(peak.hz)}`;
    const lx = Math.min(px + 5 * scale, width - g.measureText(label).width);
    const ly = Math.max(py - 5 * scale, 12 * scale);
    const box = [lx, ly - 11 * scale, lx + g.measureText(label).width, ly];
    const overlaps = labelled.some(([a, b, c, d]) => box[0] < c && box[2] > a && box[1] < d && box[3] > b);
    if (overlaps) continue;
    labelled.push(box);
    g.fillText(label, lx, ly);
  }
}

export default function spectrogramView({ data, parentElement, setTriggerValue }) {
  let v = views.get(parentElement);
  if (!v) {
    v = createView(parentElement);
    views.set(parentElement, v);
  }
  v.send = setTriggerValue;
  update(v, data);
  return () => {
    cancelAnimationFrame(v.frame);
    clearTimeout(v.zoomTimer);
    v.listening.abort();
    v.audio.pause();
    views.delete(parentElement);
  };
}
