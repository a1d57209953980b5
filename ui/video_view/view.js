// The Video page's player of ui/video_view: plain JavaScript, no build step.
// The browser owns the <video>: playing, seeking, the playhead and the word highlight never
// reach the server. Counting lines and zones are drawn over the video (SVG in the video's
// own pixels, data.frame) and sent to Python when one is added, moved, flipped, renamed or
// deleted; Python counts them from the stored tracks and sends the counts back. A pause
// sends its time, for the table of that frame's detections.

const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#ff4b4b", "#1c83e1", "#21c354", "#ffa421", "#803df5", "#00c0f2"];
const LABEL_PX = 92; // the timeline's left column, for lane names (CSS pixels)
const LANE_PX = 22;
const AXIS_PX = 16;
const HANDLE_PX = 9; // radius of an end or corner handle, in screen pixels
const CLOSE_PX = 14; // a click this near the first corner closes a zone
const TAP_PX = 6; // a press on the picture moving less than this plays or pauses; more is a swipe
const PAUSE_IDLE_MS = 250; // a pause (or a seek while paused) is sent once it rests this long
const views = new WeakMap();

// --- pure helpers (exported for the tests) ------------------------------------------------

/** The unit vector pointing to a line's "in" side: crossing towards it counts "in"
 * (supervision's LineZone: the left of start → end as seen on screen, y pointing down). */
export function inNormal(line) {
  const dx = line.x2 - line.x1;
  const dy = line.y2 - line.y1;
  const length = Math.hypot(dx, dy) || 1;
  return [dy / length, -dx / length];
}

/** Index of the item whose [start, end) holds `t` in a list sorted by start; -1 if none. */
export function itemAt(items, t) {
  let low = 0;
  let high = items.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (items[middle].start <= t) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found >= 0 && t < items[found].end ? found : -1;
}

/** "Line 3": the first of "Line 1", "Line 2", … not among `names`, the stem shortened so
 * the name fits in `limit` characters (Python cuts a longer one, maybe to a duplicate). */
export function freshName(stem, names, limit = Infinity) {
  const name = (n) => `${stem.slice(0, Math.max(limit - String(n).length - 1, 0))} ${n}`;
  let n = 1;
  while (names.includes(name(n))) n += 1;
  return name(n);
}

export function clock(seconds) {
  const s = Math.round(Math.max(0, seconds) * 10) / 10; // tenths first: 59.96 is 1:00.0, not 0:60.0
  const minutes = Math.floor(s / 60);
  return `${minutes}:${(s - minutes * 60).toFixed(1).padStart(4, "0")}`;
}

// --- the view ------------------------------------------------------------------------------

function element(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  parent?.appendChild(node);
  return node;
}

function createView(parent) {
  const find = (selector) => parent.querySelector(selector);
  const v = {
    root: find(".vv"),
    stage: find(".vv-stage"),
    video: find(".vv-video"),
    overlay: find(".vv-overlay"),
    hint: find(".vv-hint"),
    play: find(".vv-play"),
    clock: find(".vv-clock"),
    sound: find(".vv-sound"),
    subs: find(".vv-subs"),
    readout: find(".vv-readout"),
    addLine: find(".vv-add-line"),
    addZone: find(".vv-add-zone"),
    selected: find(".vv-selected"),
    name: find(".vv-name"),
    flip: find(".vv-flip"),
    remove: find(".vv-delete"),
    timeline: find(".vv-timeline"),
    lanes: find(".vv-lanes"),
    playhead: find(".vv-playhead"),
    words: find(".vv-words"),
    data: null,
    shapes: { lines: [], zones: [] },
    notes: {},
    mode: null, // "line" or "zone" while one is being drawn
    draft: [], // its points so far
    pointer: null, // where the pointer is over the video, video pixels
    drag: null, // {kind, index, point}: an end or a corner being moved
    tap: null, // {x, y}: where a press on the picture itself began, until it moves or ends
    pick: null, // {kind, index}: the line or zone whose tools show
    wordSpans: [],
    flatWords: [],
    now: -1,
    frame: 0,
    pauseTimer: 0,
    listening: new AbortController(), // aborted on unmount: every listener below goes
    sendShapes: () => {},
    sendPause: () => {},
  };
  const { signal } = v.listening;
  const duration = () => v.data?.duration_s || v.video.duration || 1;
  const toVideo = (event) => {
    const rect = v.overlay.getBoundingClientRect();
    const [width, height] = v.data.frame;
    const tenth = (value, limit) => Math.round(Math.min(Math.max(value, 0), limit) * 10) / 10;
    return [ // to a tenth of a pixel, as Python keeps them
      tenth(((event.clientX - rect.left) * width) / rect.width, width),
      tenth(((event.clientY - rect.top) * height) / rect.height, height),
    ];
  };
  const addTitles = new Map([v.addLine, v.addZone].map((button) => [button, button.title]));
  const pixelsPerUnit = () => v.overlay.getBoundingClientRect().width / v.data.frame[0];
  const commit = () => {
    v.sendShapes(JSON.parse(JSON.stringify(v.shapes)));
    if (JSON.stringify(v.shapes) !== JSON.stringify(v.data.shapes)) {
      v.notes = {}; // the counts were of the old shapes: names only until Python's new ones
    }
    drawShapes();
  };

  // --- lines and zones over the video ---
  const drawShapes = () => {
    if (!v.data) return;
    const [width, height] = v.data.frame;
    const unit = 1 / Math.max(pixelsPerUnit(), 1e-6); // video pixels per screen pixel
    v.overlay.setAttribute("viewBox", `0 0 ${width} ${height}`);
    v.overlay.replaceChildren();
    // A name or count in white on the shape's colour, moved inside the picture if it sticks out.
    const label = (x, y, text, colour, anchor = "middle") => {
      const node = element(
        "text",
        {
          x,
          y,
          fill: "#fff",
          stroke: colour,
          "stroke-width": 3 * unit,
          "paint-order": "stroke",
          "font-size": 13 * unit,
          "font-weight": "bold",
          "text-anchor": anchor,
          "pointer-events": "none",
        },
        v.overlay,
      );
      node.textContent = text;
      const box = node.getBBox();
      const margin = 3 * unit;
      const dx = Math.max(margin - box.x, 0) - Math.max(box.x + box.width - (width - margin), 0);
      const dy = Math.max(margin - box.y, 0) - Math.max(box.y + box.height - (height - margin), 0);
      node.setAttribute("x", x + dx);
      node.setAttribute("y", y + dy);
    };
    const handle = (x, y, colour, kind, index, point) => {
      const dot = element(
        "circle",
        { cx: x, cy: y, r: HANDLE_PX * unit, fill: "#fff", stroke: colour, "stroke-width": 2 * unit },
        v.overlay,
      );
      dot.style.cursor = "move";
      dot.dataset.kind = kind;
      dot.dataset.index = index;
      dot.dataset.point = point;
    };
    v.shapes.zones.forEach((zone, i) => {
      const colour = COLOURS[(i + 3) % COLOURS.length];
      const picked = v.pick?.kind === "zone" && v.pick.index === i;
      const body = element(
        "polygon",
        {
          points: zone.points.map((p) => p.join(",")).join(" "),
          fill: `${colour}33`,
          stroke: colour,
          "stroke-width": (picked ? 4 : 2) * unit,
        },
        v.overlay,
      );
      body.dataset.kind = "zone";
      body.dataset.index = i;
      const cx = zone.points.reduce((s, p) => s + p[0], 0) / zone.points.length;
      const cy = zone.points.reduce((s, p) => s + p[1], 0) / zone.points.length;
      const note = v.notes[zone.name];
      label(cx, cy, note ? `${zone.name}: ${note}` : zone.name, colour);
      zone.points.forEach((p, k) => handle(p[0], p[1], colour, "zone", i, k));
    });
    v.shapes.lines.forEach((line, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const picked = v.pick?.kind === "line" && v.pick.index === i;
      const body = element(
        "line",
        {
          x1: line.x1,
          y1: line.y1,
          x2: line.x2,
          y2: line.y2,
          stroke: colour,
          "stroke-width": (picked ? 5 : 3) * unit,
        },
        v.overlay,
      );
      body.dataset.kind = "line";
      body.dataset.index = i;
      element(
        "line", // a wide invisible copy: easier to pick on a phone
        { x1: line.x1, y1: line.y1, x2: line.x2, y2: line.y2, stroke: "transparent", "stroke-width": 18 * unit },
        v.overlay,
      ).dataset.kind = "line";
      v.overlay.lastChild.dataset.index = i;
      const [nx, ny] = inNormal(line);
      const mx = (line.x1 + line.x2) / 2;
      const my = (line.y1 + line.y2) / 2;
      const reach = 34 * unit;
      const tip = [mx + nx * reach, my + ny * reach];
      const wing = 9 * unit;
      element(
        "polyline",
        {
          points: `${mx},${my} ${tip[0]},${tip[1]}`,
          stroke: colour,
          "stroke-width": 3 * unit,
          "pointer-events": "none",
        },
        v.overlay,
      );
      element(
        "polygon",
        {
          points: [
            [tip[0] + nx * wing, tip[1] + ny * wing],
            [tip[0] - ny * wing, tip[1] + nx * wing],
            [tip[0] + ny * wing, tip[1] - nx * wing],
          ]
            .map((p) => p.join(","))
            .join(" "),
          fill: colour,
          "pointer-events": "none",
        },
        v.overlay,
      );
      label(tip[0] + nx * 14 * unit, tip[1] + ny * 14 * unit + 5 * unit, "in", colour);
      // The name and counts on the "out" side, away from the arrow: beside a steep line,
      // above or below a flat one.
      const note = v.notes[line.name];
      const text = note ? `${line.name}: ${note}` : line.name;
      if (Math.abs(nx) > Math.abs(ny)) {
        label(mx - Math.sign(nx) * 8 * unit, my + 4 * unit, text, colour, nx > 0 ? "end" : "start");
      } else label(mx, my - ny * 14 * unit + 4 * unit, text, colour);
      handle(line.x1, line.y1, colour, "line", i, 1);
      handle(line.x2, line.y2, colour, "line", i, 2);
    });
    if (v.mode && v.draft.length) {
      const points = v.pointer ? [...v.draft, v.pointer] : v.draft;
      element(
        "polyline",
        {
          points: points.map((p) => p.join(",")).join(" "),
          fill: "none",
          stroke: "#fff",
          "stroke-width": 2 * unit,
          "stroke-dasharray": `${6 * unit} ${4 * unit}`,
        },
        v.overlay,
      );
      v.draft.forEach((p) => element("circle", { cx: p[0], cy: p[1], r: 4 * unit, fill: "#fff" }, v.overlay));
    }
  };
  const showTools = () => {
    v.addLine.setAttribute("aria-pressed", String(v.mode === "line"));
    v.addZone.setAttribute("aria-pressed", String(v.mode === "zone"));
    const shape = v.pick && v.shapes[`${v.pick.kind}s`][v.pick.index];
    v.selected.hidden = !shape;
    if (shape) {
      // The shadow root knows the focused input; the document only sees the shadow host.
      if (v.name !== v.root.getRootNode().activeElement) v.name.value = shape.name;
      v.flip.hidden = v.pick.kind !== "line";
    }
    const hints = {
      line: v.draft.length ? "Click the line's other end" : "Click where the line starts",
      zone:
        v.draft.length < 3
          ? "Click the zone's corners"
          : "Click the first corner to close the zone (Esc gives up)",
    };
    // Python keeps only the first max_shapes: no drawing one that would vanish.
    const full = names().length >= (v.data?.max_shapes ?? Infinity);
    for (const [button, title] of addTitles) {
      button.disabled = full;
      button.title = full ? `At most ${v.data.max_shapes} lines and zones: delete one first` : title;
    }
    v.hint.hidden = !v.mode;
    v.hint.textContent = v.mode ? hints[v.mode] : "";
    v.overlay.classList.toggle("vv-drawing", Boolean(v.mode));
  };
  const names = () => [...v.shapes.lines, ...v.shapes.zones].map((s) => s.name);
  const startDrawing = (mode) => {
    v.mode = v.mode === mode ? null : mode;
    v.draft = [];
    v.pick = null;
    if (v.mode && !v.video.paused) v.video.pause();
    showTools();
    drawShapes();
  };
  const addPoint = (point) => {
    if (v.mode === "line") {
      v.draft.push(point);
      if (v.draft.length < 2) return;
      const [[x1, y1], [x2, y2]] = v.draft;
      if (Math.hypot(x2 - x1, y2 - y1) < 2) return void v.draft.pop();
      v.shapes.lines.push({ name: freshName("Line", names(), v.data.max_name), x1, y1, x2, y2 });
      v.pick = { kind: "line", index: v.shapes.lines.length - 1 };
    } else {
      const first = v.draft[0];
      const closing =
        v.draft.length >= 3 &&
        Math.hypot(point[0] - first[0], point[1] - first[1]) * pixelsPerUnit() < CLOSE_PX;
      if (!closing) return void v.draft.push(point);
      v.shapes.zones.push({ name: freshName("Zone", names(), v.data.max_name), points: v.draft });
      v.pick = { kind: "zone", index: v.shapes.zones.length - 1 };
    }
    v.mode = null;
    v.draft = [];
    showTools();
    commit();
  };
  v.overlay.addEventListener("pointerdown", (event) => {
    if (!v.data || event.button !== 0) return;
    event.preventDefault();
    v.root.focus({ preventScroll: true });
    const point = toVideo(event);
    if (v.mode) return addPoint(point);
    const { kind, index, point: which } = event.target.dataset;
    if (kind && which !== undefined) {
      v.overlay.setPointerCapture(event.pointerId);
      v.drag = { kind, index: Number(index), point: Number(which), moved: false };
    }
    v.pick = kind ? { kind, index: Number(index) } : null;
    showTools();
    drawShapes();
    // A click on the picture itself plays or pauses, as players do: on release, so a swipe
    // that scrolls the page does not.
    v.tap = kind ? null : { x: event.clientX, y: event.clientY };
  }, { signal });
  v.overlay.addEventListener("pointermove", (event) => {
    if (!v.data) return;
    if (v.tap && Math.hypot(event.clientX - v.tap.x, event.clientY - v.tap.y) >= TAP_PX) v.tap = null;
    const point = toVideo(event);
    if (v.mode) {
      v.pointer = point;
      return drawShapes();
    }
    if (!v.drag) return;
    const { kind, index, point: which } = v.drag;
    if (kind === "line") {
      const line = v.shapes.lines[index];
      [line[`x${which}`], line[`y${which}`]] = point;
    } else v.shapes.zones[index].points[which] = point;
    v.drag.moved = true;
    drawShapes();
  }, { signal });
  const endDrag = () => {
    const moved = v.drag?.moved;
    v.drag = null;
    if (moved) commit();
  };
  v.overlay.addEventListener("pointerup", () => {
    endDrag();
    if (v.tap) togglePlay();
    v.tap = null;
  }, { signal });
  v.overlay.addEventListener("pointercancel", () => {
    endDrag();
    v.tap = null; // the browser took the touch: a scroll
  }, { signal });
  // A finger on an end or a corner moves it, whichever way: the stage's pan-y would scroll.
  v.overlay.addEventListener(
    "touchstart",
    (event) => {
      if (event.target.dataset?.point !== undefined) event.preventDefault();
    },
    { passive: false, signal },
  );
  v.overlay.addEventListener("pointerleave", () => {
    v.pointer = null;
    if (v.mode) drawShapes();
  }, { signal });
  v.addLine.addEventListener("click", () => startDrawing("line"), { signal });
  v.addZone.addEventListener("click", () => startDrawing("zone"), { signal });
  v.flip.addEventListener("click", () => {
    const line = v.pick && v.shapes.lines[v.pick.index];
    if (!line) return;
    [line.x1, line.y1, line.x2, line.y2] = [line.x2, line.y2, line.x1, line.y1];
    commit();
  }, { signal });
  v.remove.addEventListener("click", () => {
    if (!v.pick) return;
    v.shapes[`${v.pick.kind}s`].splice(v.pick.index, 1);
    v.pick = null;
    showTools();
    commit();
  }, { signal });
  v.name.addEventListener("change", () => {
    const shape = v.pick && v.shapes[`${v.pick.kind}s`][v.pick.index];
    const limit = v.data.max_name;
    const wanted = v.name.value.trim().slice(0, limit).trim(); // as Python cuts it
    if (!shape || !wanted || wanted === shape.name) return void (v.name.value = shape?.name ?? "");
    shape.name = names().includes(wanted) ? freshName(wanted, names(), limit) : wanted;
    commit();
  }, { signal });

  // --- playing, the playhead and the words ---
  const soundLabel = () => (v.sound.textContent = v.video.muted ? "Sound off" : "Sound on");
  // With sound if the browser allows it; a browser refusing sound unasked plays it muted.
  const play = () =>
    v.video.play().catch(() => {
      v.video.muted = true;
      soundLabel();
      v.video.play().catch(() => {});
    });
  const togglePlay = () => {
    if (!v.video.getAttribute("src")) return;
    if (v.video.paused) play();
    else v.video.pause();
  };
  const seek = (seconds) => {
    v.video.currentTime = Math.min(Math.max(seconds, 0), duration());
    tick();
  };
  const xOf = (seconds) => {
    const width = v.timeline.clientWidth;
    return LABEL_PX + (Math.min(Math.max(seconds, 0), duration()) / duration()) * (width - LABEL_PX);
  };
  const markWord = (t) => {
    const index = itemAt(v.flatWords, t);
    if (index === v.now) return;
    v.wordSpans[v.now]?.classList.remove("vv-now");
    v.now = index;
    const span = v.wordSpans[index];
    if (!span) return;
    span.classList.add("vv-now");
    // Keep the word in sight inside the transcript box, never scrolling the page.
    const box = v.words;
    const top = span.offsetTop - box.offsetTop;
    if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - span.offsetHeight) {
      box.scrollTop = top - box.clientHeight / 3;
    }
  };
  const tick = () => {
    const t = v.video.currentTime;
    v.playhead.style.left = `${xOf(t)}px`;
    v.clock.textContent = `${clock(t)} / ${clock(duration())}`;
    markWord(t);
  };
  const loop = () => {
    tick();
    v.frame = v.video.paused ? 0 : requestAnimationFrame(loop);
  };
  const reportPause = () => {
    clearTimeout(v.pauseTimer);
    if (!v.video.paused) return;
    v.pauseTimer = setTimeout(() => v.sendPause({ t: v.video.currentTime }), PAUSE_IDLE_MS);
  };
  v.play.addEventListener("click", togglePlay, { signal });
  v.sound.addEventListener("click", () => {
    v.video.muted = !v.video.muted;
    soundLabel();
  }, { signal });
  v.video.addEventListener("play", () => {
    v.play.textContent = "▮▮ Pause";
    clearTimeout(v.pauseTimer);
    if (!v.frame) v.frame = requestAnimationFrame(loop);
  }, { signal });
  v.video.addEventListener("pause", () => {
    v.play.textContent = "▶ Play";
    tick();
    reportPause();
  }, { signal });
  // A new video stops the old one without a "pause".
  v.video.addEventListener("emptied", () => (v.play.textContent = "▶ Play"), { signal });
  v.video.addEventListener("seeked", () => {
    tick();
    reportPause();
  }, { signal });
  v.video.addEventListener("loadedmetadata", tick, { signal });
  const seekAt = (event) => {
    const rect = v.lanes.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const fraction = (x - LABEL_PX) / (rect.width - LABEL_PX);
    seek(Math.min(Math.max(fraction, 0), 1) * duration());
  };
  v.timeline.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    v.timeline.setPointerCapture(event.pointerId);
    v.scrubbing = true;
    seekAt(event);
  }, { signal });
  v.timeline.addEventListener("pointermove", (event) => {
    if (v.scrubbing) seekAt(event);
    const rect = v.lanes.getBoundingClientRect();
    const fraction = (event.clientX - rect.left - LABEL_PX) / (rect.width - LABEL_PX);
    const t = Math.min(Math.max(fraction, 0), 1) * duration();
    const row = v.rows?.find((r) => event.clientY - rect.top >= r.top && event.clientY - rect.top < r.top + r.h);
    v.readout.textContent = row ? `${clock(t)} · ${laneAt(v, row, t)}` : clock(t);
  }, { signal });
  v.timeline.addEventListener("pointerleave", () => (v.readout.textContent = ""), { signal });
  // A scrub ends however the press does: released, taken by the browser, or capture lost.
  for (const end of ["pointerup", "pointercancel", "lostpointercapture"]) {
    v.timeline.addEventListener(end, () => (v.scrubbing = false), { signal });
  }
  v.words.addEventListener("click", (event) => {
    const index = event.target.dataset?.word;
    if (index === undefined) return;
    seek(v.flatWords[Number(index)].start);
    play();
  }, { signal });
  v.root.addEventListener("keydown", (event) => {
    if (event.target !== v.root) return; // the name box types its own keys
    if (event.altKey || event.ctrlKey || event.metaKey) return; // the browser's shortcuts
    const frameStep = 1 / (v.data?.fps || 25);
    const moves = { ArrowLeft: -frameStep, ArrowRight: frameStep, PageUp: -5, PageDown: 5 };
    if (event.key === " ") togglePlay();
    else if (event.key in moves) {
      v.video.pause();
      seek(v.video.currentTime + moves[event.key]);
    } else if (event.key === "Escape" && v.mode) startDrawing(null);
    else if ((event.key === "Delete" || event.key === "Backspace") && v.pick) v.remove.click();
    else return;
    event.preventDefault();
  }, { signal });

  // --- the lanes under the video, on one time axis ---
  v.drawLanes = () => {
    const lanes = v.data?.lanes;
    if (!lanes) return;
    const rows = [];
    for (const cls of lanes.in_view) rows.push({ kind: "view", name: cls.label, cls });
    if (lanes.crossings.length || v.shapes.lines.length) rows.push({ kind: "cross", name: "crossings" });
    if (lanes.tags.length) rows.push({ kind: "tags", name: "sounds" });
    if (lanes.spectrogram) rows.push({ kind: "spectrogram", name: "soundtrack", height: 48 });
    if (v.flatWords.length) rows.push({ kind: "words", name: "speech" });
    const width = v.timeline.clientWidth || 600;
    const height = rows.reduce((sum, row) => sum + (row.height || LANE_PX) + 2, 0) + AXIS_PX;
    const scale = window.devicePixelRatio || 1;
    v.lanes.width = Math.round(width * scale);
    v.lanes.height = Math.round(height * scale);
    v.lanes.style.height = `${height}px`;
    const g = v.lanes.getContext("2d");
    g.setTransform(scale, 0, 0, scale, 0, 0);
    g.clearRect(0, 0, width, height);
    const style = getComputedStyle(v.root);
    const ink = style.color; // the theme's text colour, light or dark
    const ground = style.getPropertyValue("--st-secondary-background-color").trim() || "#f0f2f6";
    g.font = "12px sans-serif";
    g.textBaseline = "middle";
    const x = (t) => LABEL_PX + (t / duration()) * (width - LABEL_PX);
    let top = 0;
    v.rows = rows;
    for (const row of rows) {
      const h = row.height || LANE_PX;
      Object.assign(row, { top, h });
      g.fillStyle = ground;
      g.fillRect(LABEL_PX, top, width - LABEL_PX, h);
      g.fillStyle = ink;
      g.fillText(row.name.length > 13 ? `${row.name.slice(0, 12)}…` : row.name, 2, top + h / 2);
      if (row.kind === "view") {
        const { counts, most } = row.cls;
        g.fillStyle = "#1c83e1aa";
        g.beginPath();
        g.moveTo(x(lanes.times[0] ?? 0), top + h);
        lanes.times.forEach((t, k) => g.lineTo(x(t), top + h - ((h - 2) * counts[k]) / most));
        g.lineTo(x(lanes.times[lanes.times.length - 1] ?? 0), top + h);
        g.fill();
        g.fillStyle = ink;
        g.textAlign = "right";
        g.fillText(`≤${most}`, width - 3, top + h / 2);
        g.textAlign = "left";
      } else if (row.kind === "cross") {
        const colourOf = Object.fromEntries(v.shapes.lines.map((l, i) => [l.name, COLOURS[i % COLOURS.length]]));
        for (const c of lanes.crossings) {
          g.fillStyle = colourOf[c.line] || "#888";
          const cx = x(c.t);
          g.beginPath(); // ▲ in, ▼ out
          if (c.dir === "in") g.moveTo(cx, top + 3), g.lineTo(cx + 5, top + h - 3), g.lineTo(cx - 5, top + h - 3);
          else g.moveTo(cx, top + h - 3), g.lineTo(cx + 5, top + 3), g.lineTo(cx - 5, top + 3);
          g.fill();
        }
      } else if (row.kind === "tags") {
        lanes.tags.forEach((tag) => {
          const x0 = x(tag.start);
          const x1 = Math.max(x(tag.end), x0 + 1);
          g.fillStyle = COLOURS[tag.colour % COLOURS.length] + "66";
          g.fillRect(x0, top + 1, x1 - x0 - 1, h - 2);
          if (x1 - x0 > g.measureText(tag.label).width + 6) {
            g.fillStyle = ink;
            g.fillText(tag.label, x0 + 3, top + h / 2);
          }
        });
      } else if (row.kind === "spectrogram") {
        if (v.picture?.complete && v.picture.naturalWidth) {
          g.drawImage(v.picture, x(0), top, x(lanes.end_s) - x(0), h);
        }
      } else if (row.kind === "words") {
        g.save();
        g.beginPath();
        g.rect(LABEL_PX, top, width - LABEL_PX, h);
        g.clip();
        let freeFrom = 0;
        for (const word of v.flatWords) {
          const x0 = x(word.start);
          const x1 = Math.max(x(word.end), x0 + 2);
          g.fillStyle = word.doubt ? "#bbbbbb88" : "#21c35488";
          g.fillRect(x0, top + 2, x1 - x0 - 1, h - 4);
          const text = word.word.trim();
          if (x0 >= freeFrom && x1 - x0 > 12) {
            g.fillStyle = ink;
            g.fillText(text, x0 + 2, top + h / 2);
            freeFrom = x0 + g.measureText(text).width + 6;
          }
        }
        g.restore();
      }
      top += h + 2;
    }
    g.fillStyle = ink; // the time axis
    g.textAlign = "center";
    const step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600].find((s) => (duration() / s) * 60 < width - LABEL_PX) || 600;
    for (let t = 0; t <= duration() + 1e-9; t += step) {
      g.fillRect(x(t), top, 1, 4);
      g.fillText(clock(t).replace(/\.0$/, ""), Math.min(Math.max(x(t), LABEL_PX + 14), width - 18), top + 10);
    }
    g.textAlign = "left";
    tick();
  };
  v.resize = new ResizeObserver(() => {
    v.drawLanes();
    drawShapes();
  });
  v.resize.observe(v.timeline);
  v.drawShapes = drawShapes;
  v.showTools = showTools;
  return v;
}

/** What a lane shows at time `t`, in words, for the readout under the pointer. */
function laneAt(v, row, t) {
  const lanes = v.data.lanes;
  const near = (duration) => (item) => Math.abs(item.t - t) <= duration;
  if (row.kind === "view") {
    const k = Math.max(itemAt(lanes.times.map((s, i) => ({ start: s, end: lanes.times[i + 1] ?? Infinity })), t), 0);
    return `${row.cls.counts[k] ?? 0} ${row.name} in view`;
  }
  if (row.kind === "cross") {
    const close = lanes.crossings.filter(near(v.data.duration_s / 150));
    return close.map((c) => `${c.line}: ${c.label} ${c.dir}`).join(", ") || "no crossing";
  }
  if (row.kind === "tags") return lanes.tags[itemAt(lanes.tags, t)]?.label ?? "";
  if (row.kind === "words") return v.flatWords[itemAt(v.flatWords, t)]?.word.trim() ?? "";
  return row.name;
}

function showWords(v, transcript) {
  v.words.replaceChildren();
  v.flatWords = [];
  v.wordSpans = [];
  v.now = -1;
  v.words.hidden = !transcript?.length;
  for (const segment of transcript || []) {
    const paragraph = document.createElement("p");
    const time = document.createElement("span");
    time.className = "vv-t";
    time.textContent = clock(segment.start);
    paragraph.appendChild(time);
    for (const word of segment.words) {
      const span = document.createElement("span");
      span.className = word.doubt ? "vv-word vv-doubt" : "vv-word";
      span.textContent = word.word;
      span.dataset.word = v.flatWords.length;
      span.title = `${word.start.toFixed(2)}–${word.end.toFixed(2)} s`;
      Object.assign(span.dataset, { start: word.start, end: word.end });
      v.flatWords.push(word);
      v.wordSpans.push(span);
      paragraph.appendChild(span);
    }
    v.words.appendChild(paragraph);
  }
}

function showSubtitles(v, subtitles) {
  // One <track> per kind of subtitles, shown or hidden by its checkbox; kept across reruns.
  const wanted = JSON.stringify(subtitles.map((s) => [s.label, s.url]));
  if (v.subsKey === wanted) return;
  v.subsKey = wanted;
  const shown = new Set(
    [...v.video.textTracks].filter((t) => t.mode === "showing").map((t) => t.label),
  );
  v.video.querySelectorAll("track").forEach((t) => t.remove());
  v.subs.replaceChildren();
  for (const sub of subtitles) {
    const track = document.createElement("track");
    Object.assign(track, { kind: "subtitles", label: sub.label, srclang: sub.lang, src: sub.url });
    v.video.appendChild(track);
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = shown.size ? shown.has(sub.label) : sub.on;
    const label = document.createElement("label");
    label.append(box, ` ${sub.label}`);
    v.subs.appendChild(label);
    const apply = () => (track.track.mode = box.checked ? "showing" : "hidden");
    box.addEventListener("change", apply);
    track.addEventListener("load", apply);
    apply();
  }
}

function update(v, data) {
  v.data = data;
  if (v.video.getAttribute("src") !== data.video) {
    const at = v.video.currentTime;
    v.video.src = data.video;
    if (at) v.video.currentTime = at;
  }
  showSubtitles(v, data.subtitles);
  v.sound.hidden = !data.sound;
  v.name.maxLength = data.max_name;
  // Python's shapes win unless one is being drawn or moved here.
  if (!v.drag && !v.mode) v.shapes = JSON.parse(JSON.stringify(data.shapes));
  if (v.pick && !v.shapes[`${v.pick.kind}s`][v.pick.index]) v.pick = null;
  v.notes = data.notes || {};
  const wordsKey = JSON.stringify(data.lanes?.transcript || null);
  if (wordsKey !== v.wordsKey) {
    v.wordsKey = wordsKey;
    showWords(v, data.lanes?.transcript);
  }
  const picture = data.lanes?.spectrogram;
  if (picture && v.picture?.getAttribute("src") !== picture) {
    v.picture = new Image();
    v.picture.onload = () => v.drawLanes();
    v.picture.src = picture;
  }
  v.showTools();
  v.drawShapes();
  v.drawLanes();
}

export default function videoView({ data, parentElement, setStateValue, setTriggerValue }) {
  let v = views.get(parentElement);
  if (!v) {
    v = createView(parentElement);
    views.set(parentElement, v);
  }
  v.sendShapes = (shapes) => setStateValue("shapes", shapes);
  v.sendPause = (value) => setTriggerValue("paused", value);
  update(v, data);
  return () => {
    cancelAnimationFrame(v.frame);
    clearTimeout(v.pauseTimer);
    v.listening.abort();
    v.resize.disconnect();
    v.video.pause();
    views.delete(parentElement);
  };
}
