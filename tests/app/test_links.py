"""Links that keep the work: ``?w=<id>`` and the server-side store behind it (ui.store)."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import skimage.data
import streamlit as st
from streamlit.testing.v1 import AppTest

from analysis.vision.detections import DEFAULT_CONFIDENCE
from tests.support.corpus import png
from ui.state import LINK_GONE
from ui.store import ID, STATE, StoreSettings, WorkStore, digest_of, new_id

pytestmark = pytest.mark.usefixtures("fresh_caches")
VISION = "../../app_pages/vision.py"


@pytest.fixture
def store(tmp_path, monkeypatch) -> WorkStore:
    """The app's store, in a folder of this test."""
    monkeypatch.setenv("PERCEPT_LINKS_DIR", str(tmp_path))
    return WorkStore(StoreSettings(tmp_path, budget_bytes=10 * 2**20))


def kept(name: str, data: bytes) -> tuple[str, str, bytes]:
    return name, digest_of(data), data


def test_ids_are_128_random_bits_and_nothing_else_names_a_folder(store):
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(ID.fullmatch(i) for i in ids)
    for bad in ("", "../" + new_id(), new_id() + "/..", "a" * 21, "a" * 23, "é" * 22, None):
        assert store.folder(bad) is None and store.load(bad) is None


def test_a_link_keeps_values_and_files_and_another_id_sees_none_of_them(store):
    first, second = new_id(), new_id()
    store.save(first, {"zoom": (1.5, 3.0), "model": "haar", "classes": ["face"]}, {
        "upload": ("my photo.png", digest_of(b"secret bytes"), b"secret bytes"),
    })  # fmt: skip
    saved = store.load(first)
    assert saved.values == {"zoom": (1.5, 3.0), "model": "haar", "classes": ["face"]}
    assert saved.files == {"upload": ("my photo.png", b"secret bytes")}
    assert store.load(second) is None  # unknown
    store.save(second, {}, {})
    assert store.load(second).files == {}
    # Each id's files live in its own folder, named by their hash, never by the user's name.
    assert [p.name for p in (store.settings.root / second).rglob("*")] == [STATE, "files"]


def test_values_json_cannot_hold_are_left_out_not_fatal(store):
    link = new_id()
    store.save(link, {"ok": 1, "odd": object(), "array": np.zeros(2)}, {})
    assert store.load(link).values == {"ok": 1}


def test_expired_links_are_gone_and_the_budget_drops_the_oldest_first(store, tmp_path):
    old, mid, new = new_id(), new_id(), new_id()
    for age, link in ((3000, old), (2000, mid), (1000, new)):
        store.save(link, {}, {"f": kept("f.bin", os.urandom(2 * 2**20))})
        stamp = time.time() - age
        os.utime(tmp_path / link / STATE, (stamp, stamp))
    expiring = WorkStore(StoreSettings(tmp_path, 10 * 2**20, max_age_s=2500))
    assert expiring.load(old) is None and not (tmp_path / old).exists()
    tight = WorkStore(StoreSettings(tmp_path, budget_bytes=int(2.5 * 2**20)))
    tight.prune()  # two links of 2 MB do not fit in 2.5 MB: the older goes
    assert not (tmp_path / mid).exists() and tight.load(new) is not None
    # A file larger than a quarter of the budget is not kept at all: the disk never fills.
    tight.save(new, {}, {"f": kept("big.bin", os.urandom(2**20))})
    assert tight.load(new).files == {}


def test_a_write_cut_short_is_never_half_read(store, tmp_path):
    link = new_id()
    store.save(link, {"a": 1}, {"f": kept("f.bin", b"complete")})
    (tmp_path / link / ".partial-x").write_bytes(b"half of a newer state")  # killed mid-write
    assert store.load(link).values == {"a": 1}
    damaged = next((tmp_path / link / "files").iterdir())
    damaged.write_bytes(b"compl")  # a disk that lost the end of a file
    assert store.load(link).files == {}
    store.save(link, {}, {"f": ("evil", "../../" + new_id(), b"x")})  # no path from a digest
    assert store.load(link).files == {}
    (tmp_path / link / STATE).write_text('{"values": {"a"')  # a torn state file
    assert store.load(link) is None


def link_of(at: AppTest) -> str:
    value = at.query_params["w"]
    return value if isinstance(value, str) else value[-1]


def page_with_a_picture() -> AppTest:
    at = AppTest.from_file(VISION, default_timeout=60).run()
    at.selectbox(key="vision_model").set_value("haar-faces").run()
    at.file_uploader[0].upload("cat.png", png(skimage.data.chelsea()), "image/png").run()
    at.slider(key="vision_confidence").set_value(0.6).run()
    assert not at.exception
    return at


def test_the_link_in_a_new_session_after_a_restart_shows_the_same_file_and_settings(store):
    first = page_with_a_picture()
    link = link_of(first)
    assert ID.fullmatch(link)
    st.cache_resource.clear()  # as after a server restart: only the disk remembers
    again = AppTest.from_file(VISION, default_timeout=60)
    again.query_params["w"] = link
    again.run()
    assert not again.exception and not again.info.values.count(LINK_GONE)
    assert "cat.png — 451×300 px" in [t.value for t in again.text]
    assert again.slider(key="vision_confidence").value == pytest.approx(0.6)
    assert again.selectbox(key="vision_model").value == "haar-faces"
    assert again.dataframe[0].value.equals(first.dataframe[0].value)  # the same results


def test_an_unknown_or_malformed_link_is_an_empty_page_with_one_sentence(store):
    page_with_a_picture()
    for asked in (new_id(), "../../etc", "x" * 500):
        at = AppTest.from_file(VISION, default_timeout=60)
        at.query_params["w"] = asked
        at.run()
        assert not at.exception
        assert [i.value for i in at.info].count(LINK_GONE) == 1
        assert "cat.png" not in " ".join(t.value for t in at.text)
        assert at.slider(key="vision_confidence").value == pytest.approx(DEFAULT_CONFIDENCE)
        assert link_of(at) != asked and ID.fullmatch(link_of(at))  # a fresh link of its own


def test_a_disk_that_refuses_writes_leaves_the_page_working(tmp_path, monkeypatch):
    (tmp_path / "a file").write_text("not a folder")
    monkeypatch.setenv("PERCEPT_LINKS_DIR", str(tmp_path / "a file" / "links"))
    at = page_with_a_picture()  # every save fails: no folder can be made there
    assert not at.exception and not at.error
    assert at.slider(key="vision_confidence").value == pytest.approx(0.6)
