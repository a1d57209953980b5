"""The Batch page in AppTest: many uploads run on a Dask cluster, then filtered, not rerun."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

import ui.sections.batch
from analysis.errors import InputError
from analysis.vision.image import sample_photo
from ui.sections.batch import ROOT_VARIABLE, SCHEDULER_VARIABLE, save_uploads, server_folder

PAGE = "../../app_pages/batch.py"
TIMEOUT_S = 60


def jpeg(name: str, side: int = 320) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(sample_photo(name)).resize((side, side)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def runs(monkeypatch) -> Iterator[list[object]]:
    """The page on a small in-process cluster; lists every batch run it starts."""
    from distributed import LocalCluster

    started: list[object] = []
    real = ui.sections.batch.run_batch

    def counted(*args, **kwargs):
        started.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(ui.sections.batch, "run_batch", counted)
    # In-process (inproc:// addresses, no socket); real processes are tests/test_batch.py's.
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        monkeypatch.setenv(SCHEDULER_VARIABLE, cluster.scheduler_address)
        st.cache_resource.clear()
        yield started
        st.cache_resource.clear()  # closes the page's client before its cluster


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def run_to_the_end(at: AppTest) -> None:
    """Click Run, wait for the job (a thread of this process) to end, and draw the results."""
    button(at, "Run on the cluster").click().run()
    job = at.session_state["batch_job"]
    assert job.finished.wait(TIMEOUT_S), "the batch did not finish"
    at.run()
    assert not at.exception


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
    assert "4 files: 3 analysed, 1 error, on 1 worker" in at.success[0].value
    table = at.dataframe[0].value
    assert set(table["path"]) >= {"astronaut.jpg", "astronaut (2).jpg"}
    assert set(table["label"]) == {"face"}
    assert len(at.get("image")) > 0  # thumbnails of the files with the most faces
    assert [b.proto.label for b in at.get("download_button")] == [
        "Download files.parquet", "Download detections.parquet", "Download report.html"
    ]  # fmt: skip

    at.slider[0].set_value(0.9).run()
    assert (at.dataframe[0].value["score"] >= 0.9).all()
    assert len(at.dataframe[0].value) < len(table)
    assert len(runs) == 1  # filtering reads the stored rows: nothing ran again


def test_a_missing_server_folder_is_one_sentence(monkeypatch, tmp_path):
    monkeypatch.delenv(ROOT_VARIABLE, raising=False)
    with pytest.raises(InputError, match="started without PERCEPT_BATCH_ROOT"):
        server_folder("photos")
    monkeypatch.setenv(ROOT_VARIABLE, str(tmp_path))
    (tmp_path / "photos").mkdir()
    assert server_folder("photos") == (tmp_path / "photos").resolve()
    with pytest.raises(InputError, match="Only folders under"):
        server_folder("../")
    with pytest.raises(InputError, match="no folder"):
        server_folder("elsewhere")


def test_uploads_get_safe_distinct_names(tmp_path):
    names = save_uploads(
        [("a.jpg", b"1"), ("a.jpg", b"2"), ("../../etc/x.png", b"3"), (".hidden.jpg", b"4")],
        tmp_path,
    )
    assert names == ["a.jpg", "a (2).jpg", "x.png", "hidden.jpg"]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names)
