"""Server folders only under PERCEPT_BATCH_ROOTS, and uploads (a zip too) only inside the
batch's folder: every way out is refused with one sentence."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from analysis.batch.roots import ENABLE_HINT, batch_roots, resolve_folder, subfolders
from analysis.batch.uploads import save_uploads, unpack_zip
from analysis.errors import InputError


@pytest.fixture
def tree(tmp_path):
    """data/ (the root) with photos/2024/ and a link out to secret/; secret/ outside."""
    root, secret = tmp_path / "data", tmp_path / "secret"
    (root / "photos" / "2024").mkdir(parents=True)
    (root / ".cache").mkdir()
    secret.mkdir()
    (root / "out").symlink_to(secret)
    (root / "photos" / "inside").symlink_to(root / "photos" / "2024")
    return root, secret


def test_roots_come_from_the_setting_and_are_empty_by_default(tree, tmp_path, monkeypatch):
    root, _ = tree
    monkeypatch.delenv("PERCEPT_BATCH_ROOTS", raising=False)
    assert batch_roots() == []
    with pytest.raises(InputError, match="PERCEPT_BATCH_ROOTS=") as refused:
        resolve_folder("photos", root, [])
    assert str(refused.value) == ENABLE_HINT
    monkeypatch.setenv("PERCEPT_BATCH_ROOTS", f"{root}{os.pathsep}{tmp_path / 'missing'}")
    assert batch_roots() == [root.resolve()]


def test_folders_under_the_root_are_picked(tree):
    root, _ = tree
    assert resolve_folder("photos/2024", root) == root / "photos" / "2024"
    assert resolve_folder("", root) == root
    assert resolve_folder(str(root / "photos"), root) == root / "photos"  # absolute, inside
    assert resolve_folder("photos/inside", root) == root / "photos" / "2024"  # link inside
    assert subfolders(root) == ["photos", "photos/2024"]  # no hidden folder, no link


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("..", "“..” is not allowed"),
        ("photos/../../secret", "“..” is not allowed"),
        ("photos/..", "“..” is not allowed"),
        ("photos\\..\\..", "“..” is not allowed"),
        ("/etc", "outside the folders this app may read"),
        ("out", "leads outside .* through a symbolic link"),
        ("photos/2025", "There is no folder photos/2025"),
    ],
)
def test_every_way_out_of_the_root_is_one_sentence(tree, text, message):
    root, secret = tree
    with pytest.raises(InputError, match=message):
        resolve_folder(text, root)
    with pytest.raises(InputError, match="outside the folders"):
        resolve_folder(str(secret), root)


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_is_unpacked_with_its_folders_and_nothing_climbs_out(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    data = zip_of(
        {
            "set/images/a.jpg": b"1",
            "set/labels/a.txt": b"0 0.5 0.5 0.1 0.1",
            "../escape.txt": b"x",
            "/abs/escape.txt": b"x",
            "__MACOSX/set/._a.jpg": b"x",
            "set/.hidden": b"x",
        }
    )
    written = save_uploads([("labelled.zip", data), ("labelled.zip", data)], folder)
    assert sorted(written) == sorted(
        [f"{top}/set/{name}" for top in ("labelled", "labelled (2)")
         for name in ("images/a.jpg", "labels/a.txt", ".hidden")]
    )  # fmt: skip
    assert not (tmp_path / "escape.txt").exists() and not (folder / "escape.txt").exists()
    with pytest.raises(InputError, match="not a readable zip file"):
        unpack_zip(b"PK\x03\x04 broken", folder / "broken", "broken.zip")
