"""The Batch page in AppTest: many uploads run on a Dask cluster, then filtered, not rerun."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

import ui.jobs
import ui.sections.batch
from analysis.audio.decode import to_wav_bytes
from analysis.batch.roots import ROOTS_VARIABLE
from analysis.batch.run import BatchProgress, BatchSummary
from analysis.batch.uploads import save_uploads
from analysis.vision.image import sample_photo
from tests.analysis.batch.test_evaluation import CAT, model_file, write_labelled_set
from tests.conftest import require_model
from ui.sections.batch import SCHEDULER_VARIABLE

PAGE = "../../app_pages/batch.py"
TIMEOUT_S = 60


def jpeg(name: str, side: int = 320) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(sample_photo(name)).resize((side, side)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def local_cluster(monkeypatch) -> Iterator[None]:
    """The page on a small in-process cluster."""
    from distributed import LocalCluster

    # In-process (inproc:// addresses, no socket); real processes are in
    # tests/analysis/batch/test_run.py.
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        monkeypatch.setenv(SCHEDULER_VARIABLE, cluster.scheduler_address)
        st.cache_resource.clear()
        yield
        st.cache_resource.clear()  # closes the page's client and job board before the cluster


@pytest.fixture
def runs(monkeypatch, local_cluster) -> list[object]:
    """Lists every batch run the page starts."""
    started: list[object] = []
    real = ui.sections.batch.run_batch

    def counted(*args, **kwargs):
        started.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(ui.sections.batch, "run_batch", counted)
    return started


@pytest.fixture
def paused_run(monkeypatch, local_cluster) -> SimpleNamespace:
    """A run that needs no model: 2 of 4 files done (1 error), then it waits until it is
    told to stop (it then keeps what is done) or ``release`` is set; ``started`` is set
    once it waits, ``stopped`` counts the runs that ended by a Stop."""
    fake = SimpleNamespace(started=threading.Event(), release=threading.Event(), stopped=[])

    def run_batch(input_dir, out_dir, settings, client, *, progress, stop, **_):
        progress(BatchProgress(4, 0, 0, 0.0))
        progress(BatchProgress(4, 2, 1, 0.5))
        fake.started.set()
        while not stop() and not fake.release.wait(0.01):
            pass
        if stop():
            fake.stopped.append(settings)
        return BatchSummary(2, 1, 1, 0, 1, 0.5, analysed=2, already_done=0)

    monkeypatch.setattr(ui.sections.batch, "run_batch", run_batch)
    monkeypatch.setattr(ui.sections.batch, "check_model", lambda settings: None)
    yield fake
    fake.release.set()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def job_of(at: AppTest) -> ui.jobs.Job:
    return ui.jobs.board().get(at.session_state["batch_run"].key)


def run_to_the_end(at: AppTest) -> None:
    """Click Run, wait for the job (a thread of this process) to end, and draw the results."""
    button(at, "Run on the cluster").click().run()
    job_of(at).future.result(TIMEOUT_S)
    at.run()
    assert not at.exception


def page_with_uploads() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT_S).run()
    at.file_uploader[0].set_value([("cat.jpg", jpeg("chelsea"), "image/jpeg")]).run()
    return at


def test_uploads_run_on_the_cluster_and_filters_do_not_run_again(runs):
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert at.file_uploader[0].accept_multiple_files
    assert button(at, "Run on the cluster").disabled  # nothing to run yet
    files = [
        ("astronaut.jpg", jpeg("astronaut"), "image/jpeg"),
        ("astronaut.jpg", jpeg("astronaut", 400), "image/jpeg"),  # same name: both kept
        ("cat.jpg", jpeg("chelsea"), "image/jpeg"),
        ("broken.jpg", b"\xff\xd8\xff\xe0 not really", "image/jpeg"),
    ]
    at.file_uploader[0].set_value(files).run()
    next(box for box in at.selectbox if box.label == "Model").set_value("haar-faces").run()
    run_to_the_end(at)

    assert [settings.model for settings in runs] == ["haar-faces"]
    assert "4 files: 3 analysed, 1 error, 0 skipped, on 1 worker" in at.success[0].value
    names = [m.value for m in at.markdown if m.value.startswith("**")]
    assert set(names) == {f"**{n}**" for n in ("astronaut.jpg", "astronaut (2).jpg", "cat.jpg",
                                                 "broken.jpg")}  # fmt: skip
    assert len(at.get("image")) >= 2  # thumbnails of the pictures read
    assert sorted(b.proto.label for b in at.get("download_button")) == [
        "detections.csv", "detections.parquet", "files.csv", "files.parquet", "report.html"
    ]  # fmt: skip

    at.slider(key="batch_score").set_value(0.99).run()
    after = [m.value for m in at.markdown if m.value.startswith("**")]
    assert len(after) < len(names)  # only files with a face scored 0.99 or more
    assert len(runs) == 1  # filtering reads the stored rows: nothing ran again


def test_progress_shows_files_speed_and_errors_and_stop_keeps_what_is_done(paused_run):
    at = page_with_uploads()
    button(at, "Run on the cluster").click().run()
    assert paused_run.started.wait(TIMEOUT_S)
    at.run()
    assert [bar.proto.text for bar in at.get("progress")] == ["Analysing… 2 of 4 files"]
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics == {"Files done": "2", "Files per second": "4.0", "Errors": "1"}
    assert button(at, "Run on the cluster").disabled  # one run at a time per session

    at.button(key="batch_stop").click().run()
    job_of(at).future.result(TIMEOUT_S)
    at.run()
    assert not at.exception and not at.error
    assert len(paused_run.stopped) == 1
    assert "2 files: 1 analysed, 1 error, 0 skipped, on 1 worker" in at.success[0].value
    assert not at.get("progress")


def test_one_sessions_stop_leaves_anothers_batch_running(paused_run):
    first, second = page_with_uploads(), page_with_uploads()
    for at in (first, second):
        button(at, "Run on the cluster").click().run()
    assert job_of(first) is not job_of(second)  # each session's run is its own
    second.button(key="batch_stop").click().run()
    job_of(second).future.result(TIMEOUT_S)
    assert job_of(first).running and not job_of(first).progress.stop.is_set()
    paused_run.release.set()
    job_of(first).future.result(TIMEOUT_S)
    first.run()
    assert "2 files: 1 analysed, 1 error, 0 skipped, on 1 worker" in first.success[0].value
    assert len(paused_run.stopped) == 1  # the second session's only


def test_a_failed_run_is_one_sentence(monkeypatch, local_cluster):
    def broken(*args, **kwargs):
        raise RuntimeError("the scheduler went away")

    monkeypatch.setattr(ui.sections.batch, "run_batch", broken)
    monkeypatch.setattr(ui.sections.batch, "check_model", lambda settings: None)
    at = page_with_uploads()
    run_to_the_end(at)
    assert [e.value for e in at.error] == [
        "The batch failed (RuntimeError: the scheduler went away)."
    ]


def test_uploads_get_safe_distinct_names(tmp_path):
    names = save_uploads(
        [("a.jpg", b"1"), ("a.jpg", b"2"), ("../../etc/x.png", b"3"), (".hidden.jpg", b"4")],
        tmp_path,
    )
    assert names == ["a.jpg", "a (2).jpg", "x.png", "hidden.jpg"]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names)


# -- Server folders, an own model scored on a labelled zip, the detail view -------------------


def test_without_roots_the_page_offers_uploads_and_says_how_to_enable_folders(monkeypatch):
    monkeypatch.delenv(ROOTS_VARIABLE, raising=False)
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT_S).run()
    assert not at.radio  # no choice of source: uploads only
    assert any(f"{ROOTS_VARIABLE}=" in caption.value for caption in at.caption)


def test_the_folder_picker_lists_the_root_and_refuses_a_way_out(monkeypatch, tmp_path, runs):
    (tmp_path / "data" / "photos").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (tmp_path / "data" / "out").symlink_to(tmp_path / "secret")
    monkeypatch.setenv(ROOTS_VARIABLE, str(tmp_path / "data"))
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT_S).run()
    at.radio[0].set_value("A folder on the server").run()
    picker = next(box for box in at.selectbox if box.label == "Folder")
    assert picker.options == [".", "photos"]  # the link out is not offered
    for typed, sentence in (("../secret", "“..” is not allowed"),
                            ("out", "through a symbolic link"),
                            (str(tmp_path / "secret"), "outside the folders")):  # fmt: skip
        at.text_input(key="batch_folder_typed").set_value(typed).run()
        button(at, "Run on the cluster").click().run()
        assert sentence in at.error[0].value
    assert runs == []  # nothing started


def labelled_zip(tmp_path) -> bytes:
    """The generated labelled set of tests/analysis/batch/test_evaluation, zipped."""
    folder = write_labelled_set(tmp_path / "set")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.iterdir():
            archive.write(path, f"set/{path.name}")
    return buffer.getvalue()


def test_an_own_model_is_scored_on_a_labelled_zip_and_a_file_opens(tmp_path, runs):
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT_S).run()
    at.file_uploader[0].set_value([("set.zip", labelled_zip(tmp_path), "application/zip")]).run()
    next(box for box in at.selectbox if box.label == "Model").set_value("own").run()
    model = model_file(tmp_path, {0: CAT})  # finds every cat, misses every dog
    at.file_uploader(key="batch_own_model").set_value(
        [("mine.onnx", model.read_bytes(), "application/octet-stream"),
         ("mine.txt", b"cat\ndog\n", "text/plain")]
    ).run()  # fmt: skip
    run_to_the_end(at)
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["mAP@50"] == "0.500" and metrics["Labelled pictures"] == "6"
    per_class = at.dataframe[0].value.set_index("label")
    assert per_class.loc["dog", "recall"] == 0.0 and per_class.loc["cat", "recall"] == 1.0
    first = next(m.value for m in at.markdown if m.value.startswith("**"))
    assert first.startswith("**set/pic_")  # the worst pictures first: one dog missed each
    assert any(c.value.endswith("; 1 missed, 0 false alarms") for c in at.caption)
    images_before = len(at.get("image"))
    at.button(key=f"batch_open_{first.strip('*')}").click().run()
    assert not at.exception
    assert len(at.get("image")) == images_before + 1  # the full-size picture
    assert any("A green box alone is a miss" in c.value for c in at.caption)
    assert len(runs) == 1


def test_sounds_are_tagged_and_one_opens_with_its_spectrogram_and_tags(runs):
    require_model("yamnet")
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(32_000) / 16_000)
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT_S).run()
    at.file_uploader[0].set_value(
        [("tone.wav", to_wav_bytes(tone, 16_000), "audio/wav"),
         ("cat.jpg", jpeg("chelsea"), "image/jpeg")]
    ).run()  # fmt: skip
    next(box for box in at.selectbox if box.label == "Task").set_value("tags").run()
    run_to_the_end(at)
    assert "2 files: 1 analysed, 0 errors, 1 skipped" in at.success[0].value
    assert any("a picture, not a sound (1 file)" in c.value for c in at.caption)
    assert len(at.get("image")) == 1  # the sound's card shows its spectrogram
    at.button(key="batch_open_tone.wav").click().run()
    assert not at.exception
    assert len(at.get("audio")) == 1 and len(at.get("image")) == 2  # player and spectrogram
    tags = at.dataframe[-1].value
    assert list(tags.columns) == ["label", "score"] and len(tags) == 5


def test_a_gallery_card_counts_in_words():
    from ui.sections.batch_gallery import summary_line

    detect = SimpleNamespace(settings=SimpleNamespace(task="detect"))
    one = SimpleNamespace(status="ok", kind="picture", count=1, best=0.93, seconds=0.05)
    assert summary_line(detect, one) == "1 object, best 0.93, 0.05 s"
    scored = SimpleNamespace(**vars(one), misses=2.0, false_alarms=1.0)
    assert summary_line(detect, scored).endswith("; 2 missed, 1 false alarm")
    video = SimpleNamespace(status="ok", kind="video", count=3, best=0.8, seconds=1.5)
    assert summary_line(detect, video) == "3 tracks, best 0.80, 1.50 s"
