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
const MINUS = "\u2212";
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
    axes: null,
    levels: null,
    levelsText: null,
    audioStart: 0,
    press: null,
    zoom: null, // a wheel or pinch zoom in progress: {seconds, factor, span?}
    zoomTimer: 0,
    frame: 0,
    send: () => {},
  };
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
    v.playhead.hidden = !shown;
    if (shown) place(v.playhead, xOf(v.axes, t), top, undefined, height);
    const d = decimals();
    v.clock.textContent =
      `${t.toFixed(d)} s · view ${v.axes.start_s.toFixed(d)}–${v.axes.end_s.toFixed(d)} s`;
  };
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
    const parts = [`t = ${timeAt(v.axes, point.x).toFixed(decimals())} s`, `${Math.round(hz)} Hz`];
    if (noteName(hz)) parts.push(noteName(hz));
    if (v.levels) parts.push(formatDb(levelAt(v.levels, v.axes, point.x, point.y)));
    v.readout.textContent = parts.join(" · ");
  };
  const showBox = (a, b) => {
    const [, top, , height] = v.axes.plot;
    const flat = Math.abs(a.y - b.y) < FLAT_BOX_PX;
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
    { passive: false },
  );
  const fingers = new Map(); // pointer id -> clientX of each pointer down, for a pinch
  const fingerSpan = () => {
    const [a, b] = [...fingers.values()];
    return Math.max(Math.abs(a - b), 1);
  };

  v.stage.addEventListener("pointerdown", (event) => {
    if (!v.axes || event.button !== 0) return;
    const point = toPicture(event);
    if (!inPlot(point)) return;
    event.preventDefault(); // no text selection or image drag
    v.stage.setPointerCapture(event.pointerId);
    v.root.focus({ preventScroll: true });
    fingers.set(event.pointerId, event.clientX);
    if (fingers.size === 2) {
      v.press = null; // a second finger: a pinch, not a box
      const [a, b] = [...fingers.values()];
      const middle = toPicture({ clientX: (a + b) / 2, clientY: event.clientY });
      v.zoom = { seconds: timeAt(v.axes, middle.x), factor: 1, span: fingerSpan() };
      return;
    }
    v.press = { x: event.clientX, y: event.clientY, point, dragging: false };
  });
  v.stage.addEventListener("pointermove", (event) => {
    if (!v.axes) return;
    if (fingers.has(event.pointerId)) fingers.set(event.pointerId, event.clientX);
    if (v.zoom?.span && fingers.size === 2) {
      v.zoom.factor = v.zoom.span / fingerSpan();
      return previewZoom();
    }
    const point = toPicture(event);
    const press = v.press;
    if (press && !press.dragging) {
      press.dragging = Math.hypot(event.clientX - press.x, event.clientY - press.y) >= DRAG_PX;
    }
    if (press?.dragging) showBox(press.point, clampToPlot(point));
    showReadout(press ? clampToPlot(point) : point);
  });
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
    if (!press.dragging) return seek(timeAt(v.axes, point.x));
    const box = showBox(press.point, point);
    if (box.x1 - box.x0 < 1) return void (v.box.hidden = true);
    // The box stays drawn until Python sends the new view.
    v.send("change", {
      kind: "zoom",
      start_s: timeAt(v.axes, box.x0),
      end_s: timeAt(v.axes, box.x1),
      fmin_hz: freqAt(v.axes, box.y1),
      fmax_hz: freqAt(v.axes, box.y0),
    });
  });
  v.stage.addEventListener("pointercancel", (event) => {
    fingers.delete(event.pointerId);
    v.press = v.zoom = null;
    v.box.hidden = true;
  });
  v.stage.addEventListener("pointerleave", () => {
    if (!v.press) v.readout.textContent = "";
  });
  v.root.addEventListener("keydown", (event) => {
    if (!v.axes || event.target !== v.root) return; // buttons handle their own keys
    const step = span() / 20; // a twentieth of the view: a visible move
    const moves = {
      ArrowLeft: -step,
      ArrowRight: step,
      Home: -Infinity,
      End: Infinity,
    };
    if (event.key === " ") toggle();
    else if (event.key in moves) seek(now() + moves[event.key]);
    else if (event.key === "Escape" && v.press) {
      v.press = null; // a box given up
      v.box.hidden = true;
    }
    else return;
    event.preventDefault(); // no page scroll
  });
  v.play.addEventListener("click", toggle);
  v.reset.addEventListener("click", () => v.send("change", { kind: "reset" }));
  const label = () => {
    v.play.textContent = v.audio.paused ? "▶ Play" : "▮▮ Pause";
  };
  v.audio.addEventListener("play", () => {
    label();
    if (!v.frame) v.frame = requestAnimationFrame(tick);
  });
  v.audio.addEventListener("pause", () => {
    label();
    v.draw();
  });
  v.audio.addEventListener("emptied", label); // a new source stops without a "pause"
  v.audio.addEventListener("ended", () => {
    if (!v.loop.checked) return;
    seek(v.axes.start_s);
    v.audio.play().catch(() => {});
  });
  v.audio.addEventListener("seeked", () => v.draw());
  v.audio.addEventListener("loadedmetadata", () => v.draw());
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
  if (axesChanged) {
    v.box.hidden = true;
    v.readout.textContent = ""; // it was about the old view
  }
  v.draw();
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
    v.audio.pause();
    views.delete(parentElement);
  };
}
