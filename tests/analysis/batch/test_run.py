"""Batch analysis: finding files, one file's analysis, resuming, the report, and real Dask
scheduler and worker processes on 127.0.0.1 (one of them killed in the middle of a run)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from analysis.audio.decode import to_wav_bytes
from analysis.batch.cluster import dashboard_url
from analysis.batch.report import build_report
from analysis.batch.run import BatchProgress, run_batch
from analysis.batch.settings import BatchSettings
from analysis.batch.survey import survey
from analysis.batch.tables import FILES_TABLE, JOURNAL, Results, read_results
from analysis.batch.worker import analyse_file, loaded_model
from analysis.errors import InputError
from analysis.vision.image import sample_photo
from tests.conftest import require_model
from tests.support.live_app import PROJECT_ROOT, free_port

HAAR = BatchSettings("detect", "haar-faces")
BATCH = [sys.executable, "-m", "analysis", "batch", "--task", "detect", "--model", "haar-faces"]
STARTUP_TIMEOUT_S = 60


SKIPPED = {"notes.txt", "hum.wav", ".hidden.jpg"}  # the files of write_folder not analysed


def write_folder(folder: Path, pictures: int) -> set[str]:
    """``pictures`` small photos (one in a subfolder, one without extension), a truncated and
    an empty picture, and files that are not pictures (:data:`SKIPPED`); returns the paths
    that are analysed."""
    astronaut = Image.fromarray(sample_photo("astronaut")).resize((256, 256))
    rng = np.random.default_rng(0)
    expected = set()
    (folder / "sub").mkdir(parents=True)
    for index in range(pictures):
        name = f"photo_{index:03d}.jpg" if index else "sub/no_extension"
        noise = Image.fromarray(rng.integers(0, 255, (200, 300, 3), np.uint8))
        picture = astronaut if index % 2 else noise
        picture.save(folder / name, format="JPEG")
        expected.add(name)
    cut = (folder / "photo_001.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(cut[: len(cut) // 3])
    (folder / "empty.png").write_bytes(b"")
    expected |= {"truncated.jpg", "empty.png"}
    (folder / "notes.txt").write_text("not a picture")
    (folder / "hum.wav").write_bytes(to_wav_bytes(np.zeros(1600, np.float32), 16_000))
    (folder / ".hidden.jpg").write_bytes(cut)
    return expected


# -- Without a cluster ------------------------------------------------------------------------


def test_files_are_found_by_content_and_extension_and_the_others_skipped_with_a_reason(
    tmp_path,
):
    expected = write_folder(tmp_path, 4)
    entries = {entry.path: entry for entry in survey(tmp_path, "detect")}
    assert {path for path, entry in entries.items() if not entry.reason} == expected
    assert set(entries) == expected | SKIPPED  # nothing disappears
    assert entries["notes.txt"].reason == "a text file, not a picture or a video"
    assert entries["hum.wav"].reason == "a sound, not a picture or a video"
    assert entries[".hidden.jpg"].reason == "a hidden file"
    assert entries["sub/no_extension"].kind == "picture"
    sounds = {entry.path: entry.reason for entry in survey(tmp_path, "tags")}
    assert sounds["hum.wav"] == "" and sounds["photo_001.jpg"] == "a picture, not a sound"
    with pytest.raises(InputError, match="not a folder"):
        survey(tmp_path / "missing", "detect")


def test_settings_are_checked():
    with pytest.raises(InputError, match="not a batch task"):
        BatchSettings("count", "haar-faces")
    with pytest.raises(InputError, match="cannot tags"):
        BatchSettings("tags", "haar-faces")
    with pytest.raises(InputError, match="confidence"):
        BatchSettings("detect", "haar-faces", confidence=2.0)


def test_a_damaged_file_is_an_error_row_not_an_exception(tmp_path):
    write_folder(tmp_path, 2)
    result = analyse_file(str(tmp_path), "truncated.jpg", HAAR, "picture")
    assert result["status"] == "error"
    assert "damaged" in result["error"] and result["rows"] == []


def test_yolox_finds_the_astronaut(tmp_path):
    require_model("yolox-nano")
    Image.fromarray(sample_photo("astronaut")).save(tmp_path / "a.png")
    result = analyse_file(str(tmp_path), "a.png", BatchSettings("detect", "yolox-nano"))
    assert result["status"] == "ok"
    assert "person" in [row[0] for row in result["rows"]]
    assert all(len(row) == 6 and row[1] >= 0.25 for row in result["rows"])


def test_yamnet_keeps_the_top_tags_of_a_tone(tmp_path):
    require_model("yamnet")
    t = np.arange(32_000) / 16_000
    (tmp_path / "tone.wav").write_bytes(to_wav_bytes(0.5 * np.sin(2 * np.pi * 440 * t), 16_000))
    result = analyse_file(str(tmp_path), "tone.wav", BatchSettings("tags", "yamnet", top=3))
    assert result["status"] == "ok" and len(result["rows"]) == 3
    scores = [score for _, score in result["rows"]]
    assert scores == sorted(scores, reverse=True)


def test_whisper_transcribes_speech(speech_wav):
    require_model("whisper-tiny.en")
    settings = BatchSettings("transcribe", "whisper-tiny.en")
    result = analyse_file(str(speech_wav.parent), speech_wav.name, settings)
    assert result["status"] == "ok"
    text = result["rows"][0][0].lower()
    assert "demonstration" in text and "lazy dog" in text


def test_journal_lines_are_read_back_and_a_cut_last_line_is_ignored(tmp_path):
    failed = {"path": "b.jpg", "status": "error", "error": "Damaged.", "seconds": 0.0, "rows": []}
    ok = {
        **failed,
        "path": "a.jpg",
        "status": "ok",
        "error": "",
        "rows": [["face", 0.9, 1, 2, 3, 4]],
    }
    retried = {**ok, "path": "b.jpg", "rows": [["face", 0.5, 0, 0, 1, 1]]}
    lines = [json.dumps(result) for result in (ok, failed, retried)]
    (tmp_path / JOURNAL).write_text("\n".join(lines) + '\n{"path": "c.jp')
    results = read_results(tmp_path, "detect")
    assert list(results.files["path"]) == ["a.jpg", "b.jpg"]  # b once: its latest result
    assert list(results.files["status"]) == ["ok", "ok"]
    assert list(results.rows["score"]) == [0.9, 0.5]


def results_of(files: pd.DataFrame, rows: pd.DataFrame) -> Results:
    return Results(files.assign(kind="picture"), rows, pd.DataFrame(columns=["path"]))


def test_report_is_self_contained_and_escapes_file_names(tmp_path):
    name = "<img src=x onerror=alert(1)>.png"
    Image.fromarray(sample_photo("astronaut")).save(tmp_path / name)
    files = pd.DataFrame(
        {"path": [name, "bad.jpg"], "status": ["ok", "error"], "error": ["", "Damaged <b>."],
         "seconds": [0.2, 0.01]}
    )  # fmt: skip
    rows = pd.DataFrame(
        {"path": [name], "label": ["face"], "score": [0.9], "x1": [10.0], "y1": [10.0],
         "x2": [100.0], "y2": [100.0]}
    )  # fmt: skip
    html = build_report(tmp_path, HAAR, results_of(files, rows))
    assert "<img src=x" not in html and "&lt;img src=x" in html and "Damaged &lt;b&gt;." in html
    assert "http://" not in html and "https://" not in html
    assert html.count("data:image/jpeg;base64,") == 1  # the thumbnail
    assert html.count("<svg") == 1  # the score histogram of the one label
    assert ": 1 detection, best 0.90</figcaption>" in html  # its one box, in words


def test_labels_and_transcripts_in_the_report_are_escaped_too(tmp_path):
    files = pd.DataFrame(
        {"path": ["a.wav"], "status": ["ok"], "error": [""], "seconds": [0.5]}
    )  # fmt: skip
    tags = pd.DataFrame({"path": ["a.wav"], "label": ["<script>x</script>"], "score": [0.8]})
    html = build_report(tmp_path, BatchSettings("tags", "yamnet"), results_of(files, tags))
    assert "<script>" not in html and html.count("&lt;script&gt;x&lt;/script&gt;") == 2
    assert '<td class="n">0.8</td>' in html  # numbers are right-aligned cells
    said = pd.DataFrame({"path": ["a.wav"], "text": ['Say "<b>hi</b>" & go']})
    transcribe = BatchSettings("transcribe", "whisper-tiny.en")
    html = build_report(tmp_path, transcribe, results_of(files, said))
    assert "<b>" not in html and "&lt;b&gt;hi&lt;/b&gt;" in html and "&amp; go" in html


# -- A real cluster: scheduler and workers as separate processes ------------------------------


def start(*command: str, log: Path) -> subprocess.Popen:
    """A ``python -m dask ...`` process on this project, its output in ``log``."""
    # Workers import `analysis` by name; one thread for the model, as Dask's nannies set it.
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "OMP_NUM_THREADS": "1"}
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *command],
            cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip


def stop(processes: list[subprocess.Popen]) -> None:
    """Stop the workers one by one, then the scheduler: a worker whose scheduler goes away
    while it closes can hang."""
    for process in reversed(processes):
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start_worker(address: str, name: str, logs: Path) -> subprocess.Popen:
    # No nanny: the process is the worker itself, so killing it kills the worker.
    return start(
        "worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
        "--host", "127.0.0.1", "--no-dashboard", log=logs / f"{name}.log",
    )  # fmt: skip


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[tuple[str, Path, list[subprocess.Popen]]]:
    """A ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1."""
    logs = tmp_path_factory.mktemp("dask-logs")
    address = f"tcp://127.0.0.1:{free_port()}"
    processes = [
        start("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
              "--no-dashboard", log=logs / "scheduler.log")
    ]  # fmt: skip
    try:
        processes += [start_worker(address, f"worker-{n}", logs) for n in (1, 2)]
        yield address, logs, processes
    finally:
        stop(processes)


@pytest.fixture
def client(cluster):
    from distributed import Client

    address, logs, _ = cluster
    with Client(address, timeout=f"{STARTUP_TIMEOUT_S}s") as client:
        try:
            client.wait_for_workers(2, timeout=STARTUP_TIMEOUT_S)
        except TimeoutError:
            pytest.fail("The workers did not join:\n" + read_logs(logs))
        yield client


def read_logs(folder: Path) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()}" for log in sorted(folder.glob("*.log")))


def file_rows(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / FILES_TABLE)


def test_a_folder_on_two_worker_processes_with_damaged_files(client, tmp_path):
    expected = write_folder(tmp_path / "in", 12)
    summary = run_batch(tmp_path / "in", tmp_path / "out", HAAR, client)
    files = file_rows(tmp_path / "out")
    assert sorted(files["path"]) == sorted(expected | SKIPPED)
    errors = files.set_index("path").loc[["truncated.jpg", "empty.png"], "error"]
    assert errors.str.len().gt(0).all()
    assert (summary.files, summary.ok, summary.errors, summary.skipped) == (17, 12, 2, 3)
    assert summary.workers == 2
    assert set(pd.read_parquet(tmp_path / "out" / "detections.parquet")["label"]) <= {"face"}
    assert not (tmp_path / "out" / JOURNAL).exists()
    # Each worker process loaded the model once and reused it for every later file.
    loads = client.run(lambda: loaded_model.cache_info().misses)
    assert set(loads.values()) == {1}


def test_an_interrupted_run_resumes_with_only_the_files_not_done(client, tmp_path):
    expected = write_folder(tmp_path / "in", 10)
    seen: list[BatchProgress] = []

    def stop_after_three() -> bool:
        return len(seen) > 3

    first = run_batch(
        tmp_path / "in", tmp_path / "out", HAAR, client, progress=seen.append, stop=stop_after_three
    )
    assert first.analysed == 3 and first.files == 3 + len(SKIPPED)
    ok_first = int((file_rows(tmp_path / "out")["status"] == "ok").sum())
    second = run_batch(tmp_path / "in", tmp_path / "out", HAAR, client)
    assert (second.already_done, second.analysed) == (ok_first, 12 - ok_first)  # errors retried
    files = file_rows(tmp_path / "out")
    assert sorted(files["path"]) == sorted(expected | SKIPPED)
    third = run_batch(tmp_path / "in", tmp_path / "out", HAAR, client)
    assert (third.analysed, third.already_done, third.files) == (2, 10, 15)
    with pytest.raises(InputError, match="holds another batch"):
        run_batch(tmp_path / "in", tmp_path / "out", BatchSettings("detect", "hog-people"), client)


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(cluster, client, tmp_path):
    address, logs, processes = cluster
    victim = start_worker(address, "victim", logs)
    processes.append(victim)
    client.wait_for_workers(3, timeout=STARTUP_TIMEOUT_S)
    expected = write_folder(tmp_path / "in", 40)

    (victim_address,) = (
        address
        for address, worker in client.scheduler_info(n_workers=-1)["workers"].items()
        if worker["name"] == "victim"
    )
    killed_holding: list[str] = []

    def kill_when_busy(progress: BatchProgress) -> None:
        """Kill the victim, once 5 files are done, at a moment it is analysing files."""
        if progress.done < 5 or killed_holding:
            return
        holding = client.processing(workers=[victim_address])[victim_address]
        if holding:
            victim.send_signal(signal.SIGKILL)
            killed_holding.extend(holding)

    summary = run_batch(tmp_path / "in", tmp_path / "out", HAAR, client, progress=kill_when_busy)
    assert killed_holding, "the victim was never seen analysing a file"
    assert victim.wait(timeout=10) == -signal.SIGKILL
    files = file_rows(tmp_path / "out")
    assert files["path"].is_unique
    assert set(files["path"]) == expected | SKIPPED
    assert summary.errors == 2  # only the damaged files
    assert summary.workers == 2


def test_the_command_line_on_a_running_scheduler(cluster, tmp_path):
    address = cluster[0]
    write_folder(tmp_path / "in", 3)
    command = [*BATCH, str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--scheduler", address,
               "--json"]  # fmt: skip
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["files"], summary["ok"], summary["errors"], summary["skipped"]) == (8, 3, 2, 3)
    assert {Path(path).name for path in summary["outputs"]} == {
        "files.parquet", "files.csv", "detections.parquet", "detections.csv", "report.html"
    }  # fmt: skip
    assert summary["evaluation"] is None
    assert "5/5 files" in done.stderr  # the progress line


def test_a_local_cluster_serves_the_dashboard_the_page_links_to():
    from urllib.request import urlopen

    from distributed import Client

    # In-process workers: a spawned one would re-run whichever page AppTest ran last as __main__.
    with Client(processes=False, n_workers=1, dashboard_address=":0") as client:
        url = dashboard_url(client)
        assert url is not None and url.endswith("/status")
        with urlopen(url, timeout=30) as response:  # this machine: the scheduler's own page
            assert response.status == 200


WORKER_ENVIRON = """
import os
from analysis.batch.cluster import open_client
with open_client(workers=1, dashboard=False) as client:
    names = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
    seen = client.run(lambda: [os.environ.get(name) for name in (*names, "OMP_NUM_THREADS")])
print(*next(iter(seen.values())))
"""


def test_local_workers_keep_freed_picture_buffers_for_the_next_file():
    # In a process of its own: a worker spawned from here would re-run AppTest's last page.
    done = subprocess.run(
        [sys.executable, "-c", WORKER_ENVIRON],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout.split() == ["1", str(64 << 20), str(128 << 20), "1"]


def test_two_files_run_here_with_no_cluster_and_resume_the_same(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(sample_photo("astronaut")).save(folder / "astronaut.jpg")
    (folder / "cut.jpg").write_bytes((folder / "astronaut.jpg").read_bytes()[:2000])
    command = [*BATCH, str(folder), "-o", str(tmp_path / "out"), "--json"]
    # No Dask at all: the command must not even import it for a file or two.
    script = (
        "import runpy, sys; sys.argv = ['analysis', *sys.argv[1:]]\n"
        "try: runpy.run_module('analysis', run_name='__main__')\n"
        "finally: print('distributed' in sys.modules, file=sys.stderr)"
    )
    for analysed, already_done in ((2, 0), (1, 1)):  # resumed: only the damaged file again
        done = subprocess.run([sys.executable, "-c", script, *command[3:]], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip().endswith("False")
        summary = json.loads(done.stdout)
        assert (summary["ok"], summary["errors"], summary["workers"]) == (1, 1, 1)
        assert (summary["analysed"], summary["already_done"]) == (analysed, already_done)
    assert set(pd.read_parquet(tmp_path / "out" / "detections.parquet")["label"]) == {"face"}


def test_the_command_line_refuses_a_missing_folder_without_starting_a_cluster(tmp_path):
    command = [*BATCH, str(tmp_path / "nothing"), "-o", str(tmp_path / "out")]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "is not a folder" in done.stderr
