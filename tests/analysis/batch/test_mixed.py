"""A mixed folder (pictures, sounds, a text file, a corrupt picture, a video): every file is a
row of files.parquet (ok, error with its message, skipped with its reason), in the summary,
the CSV twin and the report; videos become tracks with --task detect."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from analysis.audio.decode import to_wav_bytes
from analysis.batch.run import run_batch
from analysis.batch.settings import BatchSettings
from analysis.batch.worker import analyse_file
from analysis.vision.image import sample_photo
from tests.analysis.video.test_pipeline import write_video
from tests.conftest import require_model

HAAR = BatchSettings("detect", "haar-faces", stride=2)


def write_mixed(folder: Path) -> None:
    folder.mkdir(parents=True)
    Image.fromarray(sample_photo("astronaut")).save(folder / "astronaut.jpg")
    Image.fromarray(sample_photo("coffee")).save(folder / "coffee.png")
    (folder / "corrupt.jpg").write_bytes((folder / "astronaut.jpg").read_bytes()[:2000])
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(16_000) / 16_000)
    (folder / "tone.wav").write_bytes(to_wav_bytes(tone, 16_000))
    (folder / "readme.txt").write_text("a text file")
    write_video(folder / "clip.mp4", 12)


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    from distributed import Client

    with Client(processes=False, n_workers=1, dashboard_address=None) as client:
        yield client


def test_every_file_of_a_mixed_folder_is_accounted_for(client, tmp_path):
    write_mixed(tmp_path / "in")
    summary = run_batch(tmp_path / "in", tmp_path / "out", HAAR, client)
    files = pd.read_csv(tmp_path / "out" / "files.csv", keep_default_na=False).set_index("path")
    assert files.to_dict("index") == {
        "astronaut.jpg": {"kind": "picture", "status": "ok", "error": "",
                          "seconds": files.loc["astronaut.jpg", "seconds"]},
        "clip.mp4": {"kind": "video", "status": "ok", "error": "",
                     "seconds": files.loc["clip.mp4", "seconds"]},
        "coffee.png": {"kind": "picture", "status": "ok", "error": "",
                       "seconds": files.loc["coffee.png", "seconds"]},
        "corrupt.jpg": {"kind": "picture", "status": "error",
                        "error": "The picture is damaged or incomplete (truncated file), so it "
                                 "cannot be read.", "seconds": files.loc["corrupt.jpg", "seconds"]},
        "readme.txt": {"kind": "text", "status": "skipped",
                       "error": "a text file, not a picture or a video", "seconds": 0.0},
        "tone.wav": {"kind": "sound", "status": "skipped",
                     "error": "a sound, not a picture or a video", "seconds": 0.0},
    }  # fmt: skip
    assert pd.read_parquet(tmp_path / "out" / "files.parquet").equals(
        pd.read_csv(tmp_path / "out" / "files.csv", keep_default_na=False)
    )
    assert (summary.files, summary.ok, summary.errors, summary.skipped) == (6, 3, 1, 2)
    assert (tmp_path / "out" / "tracks.csv").exists()  # the video's (none: no face in it)
    html = (tmp_path / "out" / "report.html").read_text()
    assert "6 files, 3 analysed, 1 error, 2 skipped" in html
    assert "a sound, not a picture or a video" in html and "corrupt.jpg" in html
    assert str(tmp_path) not in html  # files are named relative to the folder


def test_the_same_folder_for_sounds_skips_the_pictures_and_the_video(client, tmp_path):
    require_model("yamnet")
    write_mixed(tmp_path / "in")
    summary = run_batch(tmp_path / "in", tmp_path / "out", BatchSettings("tags", "yamnet"), client)
    files = pd.read_parquet(tmp_path / "out" / "files.parquet").set_index("path")
    assert files.loc["astronaut.jpg", "error"] == "a picture, not a sound"
    assert files.loc["clip.mp4", "error"] == "a video, not a sound"
    assert files.loc["tone.wav", "status"] == "ok"
    assert (summary.files, summary.ok, summary.skipped) == (6, 1, 5)


def test_a_real_video_in_a_folder_becomes_its_tracks(client, tmp_path, opencv_data):
    require_model("yolox-nano")
    (tmp_path / "in").mkdir()
    shutil.copy(opencv_data / "vtest.avi", tmp_path / "in")  # people walking in a mall
    settings = BatchSettings("detect", "yolox-nano", stride=8)
    summary = run_batch(tmp_path / "in", tmp_path / "out", settings, client)
    assert (summary.files, summary.ok) == (1, 1)
    tracks = pd.read_parquet(tmp_path / "out" / "tracks.parquet")
    people = tracks[tracks["label"] == "person"]
    assert len(people) >= 3 and set(tracks["path"]) == {"vtest.avi"}
    assert (people["last_s"] >= people["first_s"]).all() and people["frames"].max() > 10
    # The frame the gallery shows: the busiest analysed one, each object in view boxed in it.
    assert tracks["frame_s"].nunique() == 1
    boxed = tracks.dropna(subset=["x1"])
    assert len(boxed) >= 3 and boxed["label"].eq("person").sum() >= 3
    shown_s = tracks["frame_s"].iloc[0]
    assert ((boxed["first_s"] <= shown_s) & (shown_s <= boxed["last_s"])).all()
    assert (boxed["x1"] < boxed["x2"]).all() and (boxed["x2"] <= 768).all()
    assert (boxed["y1"] < boxed["y2"]).all() and (boxed["y2"] <= 576).all()


def test_a_worker_sent_the_bytes_needs_no_access_to_the_folder(tmp_path):
    write_mixed(tmp_path / "in")
    elsewhere = str(tmp_path / "not-on-this-worker")
    for name, kind in (("astronaut.jpg", "picture"), ("clip.mp4", "video")):
        data = (tmp_path / "in" / name).read_bytes()
        result = analyse_file(elsewhere, name, HAAR, kind, data)
        assert result["status"] == "ok", result["error"]
    assert analyse_file(elsewhere, "astronaut.jpg", HAAR, "picture")["status"] == "error"
