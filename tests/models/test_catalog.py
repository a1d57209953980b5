"""The model catalog, file lookup, and ``python -m models list/fetch`` against a local server."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import shutil
import sys
import threading

import pytest

from models import CATALOG, get_spec, model_dirs, resolve_files
from models.__main__ import main as models_main
from models.catalog import ModelFile
from models.fetch import FetchError, fetch, fetch_dir
from models.locate import PROJECT_MODELS_DIR, SHARED_MODELS_DIR, MissingModelError
from tests.conftest import require_model

VISION = ("yolox-nano", "mobilenet-ssd", "yunet", "haar-faces", "hog-people")


@pytest.mark.parametrize("name", VISION)
def test_vision_entries_describe_the_model(name):
    spec = get_spec(name)
    assert spec.task in ("objects", "faces")
    assert spec.labels and spec.licence and spec.source.startswith("https://")
    assert spec.preprocessing and spec.description
    for model_file in spec.files:
        assert model_file.url.startswith("https://") and model_file.names


def test_label_sets():
    assert len(get_spec("yolox-nano").labels) == 80
    assert {"sports ball", "dining table"} <= set(get_spec("yolox-nano").labels)
    voc = get_spec("mobilenet-ssd").labels
    assert len(voc) == 21 and voc[0] == "background" and voc[15] == "person"


def test_builtin_models_need_no_files_and_say_so():
    for name in ("haar-faces", "hog-people"):
        spec = get_spec(name)
        assert spec.builtin and resolve_files(spec) == {}
        assert "built into OpenCV" in spec.title and "not deep learning" in spec.description


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="known models: "):
        get_spec("resnet")


def test_lookup_order_puts_the_environment_first(monkeypatch, tmp_path):
    monkeypatch.setenv("PERCEPT_MODELS_DIR", str(tmp_path))
    assert model_dirs() == [tmp_path, PROJECT_MODELS_DIR, SHARED_MODELS_DIR]
    assert fetch_dir() == tmp_path
    monkeypatch.delenv("PERCEPT_MODELS_DIR")
    assert model_dirs() == [PROJECT_MODELS_DIR, SHARED_MODELS_DIR]
    assert fetch_dir() == PROJECT_MODELS_DIR


def test_environment_directory_shadows_the_shared_one(monkeypatch, tmp_path):
    require_model("yunet")
    copy = tmp_path / "face_detection_yunet_2023mar.onnx"
    copy.write_bytes(b"x")
    monkeypatch.setenv("PERCEPT_MODELS_DIR", str(tmp_path))
    assert resolve_files(get_spec("yunet")) == {"model": copy}


# -- fetch against a local HTTP server --------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(tmp_path):
    """Serve ``tmp_path / "served"`` on 127.0.0.1; yield (directory, base URL)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def install_dir(tmp_path, monkeypatch):
    target = tmp_path / "installed"
    monkeypatch.setenv("PERCEPT_MODELS_DIR", str(target))
    return target


def served_yunet(server, monkeypatch, **overrides):
    """The yunet entry pointed at a copy of its ONNX file on the local server."""
    source = require_model("yunet")["model"]
    served, url = server
    shutil.copy(source, served / "yunet.onnx")
    data = source.read_bytes()
    model_file = ModelFile(
        role="model",
        names=("yunet_fetched.onnx",),  # a name no models directory has yet
        url=f"{url}/yunet.onnx",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    model_file = dataclasses.replace(model_file, **overrides)
    spec = dataclasses.replace(get_spec("yunet"), files=(model_file,))
    monkeypatch.setitem(CATALOG, "yunet", spec)
    return spec


def test_fetch_downloads_verifies_and_installs(server, install_dir, monkeypatch, capsys):
    spec = served_yunet(server, monkeypatch)
    assert models_main(["fetch", "yunet"]) == 0
    out, err = capsys.readouterr()
    installed = install_dir / "yunet_fetched.onnx"
    assert installed.read_bytes() == (server[0] / "yunet.onnx").read_bytes()
    assert "yunet is ready" in out and str(installed) in out
    assert "[##############################]" in err  # the progress bar reached the end
    assert list(install_dir.iterdir()) == [installed]  # no .part left behind
    assert resolve_files(spec) == {"model": installed}


def test_fetch_keeps_files_already_present(server, install_dir, monkeypatch):
    spec = served_yunet(server, monkeypatch)
    install_dir.mkdir()
    (install_dir / "yunet_fetched.onnx").write_bytes(b"present")
    assert fetch(spec, progress=False) == {"model": install_dir / "yunet_fetched.onnx"}
    assert (install_dir / "yunet_fetched.onnx").read_bytes() == b"present"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sha256": "0" * 64}, "is corrupt or not the one the catalog describes"),
        ({"size": 12}, "expected 12: the download is incomplete"),
    ],
    ids=["hash", "size"],
)
def test_fetch_rejects_a_file_that_does_not_verify(
    server, install_dir, monkeypatch, overrides, message
):
    spec = served_yunet(server, monkeypatch, **overrides)
    with pytest.raises(FetchError, match=message):
        fetch(spec, progress=False)
    assert not install_dir.exists() or not any(install_dir.iterdir())


def test_fetch_rejects_a_file_that_does_not_load(server, install_dir, monkeypatch, capsys):
    spec = served_yunet(server, monkeypatch, size=None, sha256=None)
    (server[0] / "yunet.onnx").write_bytes(b"<html>not a model</html>")
    assert spec.files[0].size is None
    assert models_main(["fetch", "yunet"]) == 1
    assert "do not load" in capsys.readouterr().err
    assert not any(install_dir.iterdir())


def test_fetch_names_a_missing_runtime(server, install_dir, monkeypatch):
    served, url = server
    shutil.copy(require_model("yolox-nano")["model"], served / "yolox.onnx")
    model_file = ModelFile(role="model", names=("yolox_fetched.onnx",), url=f"{url}/yolox.onnx")
    spec = dataclasses.replace(get_spec("yolox-nano"), files=(model_file,))
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` fails
    with pytest.raises(FetchError, match="needs the onnxruntime runtime to load"):
        fetch(spec, progress=False)
    assert not install_dir.exists() or not any(install_dir.iterdir())


def test_fetch_reports_an_unreachable_server(install_dir, monkeypatch, capsys):
    served_spec = dataclasses.replace(
        get_spec("yunet"),
        files=(ModelFile("model", ("yunet_fetched.onnx",), "http://127.0.0.1:9/yunet.onnx"),),
    )
    monkeypatch.setitem(CATALOG, "yunet", served_spec)
    assert models_main(["fetch", "yunet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Could not download yunet_fetched.onnx from http://127.0.0.1:9")
    assert "copy the file into" in err


def test_fetch_reports_a_missing_upstream_file(server, install_dir, monkeypatch):
    spec = served_yunet(server, monkeypatch, url=f"{server[1]}/gone.onnx")
    with pytest.raises(FetchError, match="HTTP 404 File not found"):
        fetch(spec, progress=False)


def test_fetch_of_builtin_and_unknown_models(capsys):
    assert models_main(["fetch", "haar-faces"]) == 0
    assert "nothing to download" in capsys.readouterr().out
    assert models_main(["fetch", "resnet"]) == 2
    assert "unknown model 'resnet'" in capsys.readouterr().err


def test_list_shows_where_files_were_found_and_how_to_get_missing_ones(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr("models.locate.PROJECT_MODELS_DIR", tmp_path / "project")
    monkeypatch.setattr("models.locate.SHARED_MODELS_DIR", tmp_path / "shared")
    monkeypatch.setenv("PERCEPT_MODELS_DIR", str(tmp_path / "env"))
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "yolox_nano.onnx").write_bytes(b"x")
    assert models_main(["list"]) == 0
    out = capsys.readouterr().out
    assert f"found at {tmp_path / 'env' / 'yolox_nano.onnx'}" in out
    assert "MISSING" in out and "to get it: python -m models fetch mobilenet-ssd" in out
    assert "hog-people" in out and "built into an installed package" in out


def test_missing_model_message_names_the_file_and_the_command(tmp_path, monkeypatch):
    monkeypatch.setattr("models.locate.PROJECT_MODELS_DIR", tmp_path / "project")
    monkeypatch.setattr("models.locate.SHARED_MODELS_DIR", tmp_path / "shared")
    monkeypatch.delenv("PERCEPT_MODELS_DIR", raising=False)
    with pytest.raises(MissingModelError) as info:
        resolve_files(get_spec("yolox-nano"))
    assert "yolox_nano.onnx" in str(info.value)
    assert "python -m models fetch yolox-nano" in str(info.value)
