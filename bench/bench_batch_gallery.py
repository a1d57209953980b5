"""The Batch gallery on 10,000 small files: how long a filter or sort change takes to answer.

Run by hand from the project root: ``python bench/bench_batch_gallery.py [--files 10000]``.
It writes a batch's results as a run would (10,000 small pictures, three detections each,
some errors and skipped files), shows them in the Batch page's gallery (AppTest, in this
process), and times each change of the controls, from the change to the drawn page: a label
filter, a score filter, a status filter, each sort, a page turn. Target: under 0.5 s each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 0.5
LABELS = ("person", "car", "dog", "cat", "bicycle", "bird")


def write_run(folder: Path, files: int) -> None:
    """``folder/in`` with ``files`` small pictures, ``folder/out`` with their tables."""
    import numpy as np
    import pandas as pd
    from PIL import Image

    from analysis.batch.tables import FILES_SCHEMA, TASK_SCHEMAS, write_table

    rng = np.random.default_rng(0)
    (folder / "in").mkdir(parents=True)
    (folder / "out").mkdir()
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), np.uint8)).save(folder / "tile.png")
    tile = (folder / "tile.png").read_bytes()
    paths = [f"photo_{index:05d}.png" for index in range(files)]
    for path in paths:
        (folder / "in" / path).write_bytes(tile)
    status = rng.choice(["ok", "error", "skipped"], files, p=[0.96, 0.02, 0.02])
    table = pd.DataFrame(
        {"path": paths, "kind": "picture", "status": status,
         "error": np.where(status == "ok", "", "a reason"), "seconds": rng.uniform(0, 1, files)}
    )  # fmt: skip
    ok = np.repeat(np.array(paths)[status == "ok"], 3)
    corners = rng.uniform(0, 30, (len(ok), 2))
    rows = pd.DataFrame(
        {"path": ok, "label": rng.choice(LABELS, len(ok)), "score": rng.uniform(0.25, 1, len(ok)),
         "x1": corners[:, 0], "y1": corners[:, 1], "x2": corners[:, 0] + 20,
         "y2": corners[:, 1] + 15}
    )  # fmt: skip
    write_table(table, FILES_SCHEMA, folder / "out" / "files.parquet", ("parquet",))
    write_table(rows, TASK_SCHEMAS["detect"], folder / "out" / "detections.parquet", ("parquet",))


def harness(folder: str) -> None:
    """The gallery of the run in ``folder``, as the Batch page shows it."""
    from pathlib import Path

    import streamlit as st

    from analysis.batch.settings import BatchSettings
    from ui.sections.batch import BatchRun
    from ui.sections.batch_gallery import gallery

    if "bench_run" not in st.session_state:
        root = Path(folder)
        settings = BatchSettings("detect", "haar-faces")
        st.session_state.bench_run = BatchRun(root / "in", root / "out", settings)
    gallery(st.session_state.bench_run)


def timed(step) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    from streamlit.testing.v1 import AppTest

    folder = Path(tempfile.mkdtemp(prefix="percept-bench-gallery-"))
    write_run(folder, args.files)
    at = AppTest.from_function(harness, args=(str(folder),), default_timeout=120)
    first = timed(at.run)
    assert not at.exception, at.exception
    print(f"{args.files} files; first drawing (tables, catalogue, 12 thumbnails) {first:.2f} s")
    changes = {
        "label filter (person)": lambda: at.multiselect(key="batch_labels").select("person").run(),
        "score filter (0.8)": lambda: at.slider(key="batch_score").set_value(0.8).run(),
        "status filter (errors only)": lambda: (
            at.multiselect(key="batch_statuses").set_value(["error"]).run()
        ),
        "all statuses again": lambda: (
            at.multiselect(key="batch_statuses").set_value(["ok", "error", "skipped"]).run()
        ),
    }
    for name in ("Most confident", "Slowest", "Errors first", "Name", "Most objects"):
        changes[f"sort: {name}"] = lambda name=name: (
            at.selectbox(key="batch_sort").set_value(name).run()
        )
    changes["next page"] = lambda: at.number_input[0].increment().run()
    worst = 0.0
    for name, change in changes.items():
        seconds = timed(change)
        assert not at.exception, at.exception
        worst = max(worst, seconds)
        print(f"  {name:<28} {seconds * 1000:7.0f} ms")
    verdict = "ok" if worst < TARGET_S else "OVER"
    print(f"Slowest change: {worst:.2f} s (target < {TARGET_S} s) {verdict}")


if __name__ == "__main__":
    main()
