"""Every unusual or malformed file from the corpus, through the command line.

A file that should work gives exit 0 and a result; one that should not gives exit 2 and
one ``error:`` sentence on stderr; nothing ever escapes as a traceback.
"""

from __future__ import annotations

import json

import pytest
from PIL import Image

from analysis.commands.cli import main
from tests.conftest import require_model
from tests.support.corpus import AUDIO_CASES, IMAGE_CASES, TRUNCATED_AUDIO_CASES, VIDEO_CASES, Case


def written(tmp_path, case: Case):
    path = tmp_path / case.name
    path.write_bytes(case.make())
    return path


def assert_one_error_sentence(capsys) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and err[0].endswith("."), err


@pytest.mark.parametrize("case", AUDIO_CASES + TRUNCATED_AUDIO_CASES, ids=lambda c: c.id)
def test_spectrogram_command(case, tmp_path, capsys):
    out = tmp_path / "out.png"
    code = main(["spectrogram", str(written(tmp_path, case)), "-o", str(out)])
    if case.ok:
        assert code == 0
        with Image.open(out) as image:
            assert image.width > 300 and image.height > 200
        # A file cut short says so, and only such a file.
        said_truncated = "note: The file seems damaged or truncated" in capsys.readouterr().out
        assert said_truncated == (case in TRUNCATED_AUDIO_CASES)
    else:
        assert code == 2
        assert not out.exists()
        assert_one_error_sentence(capsys)


@pytest.mark.parametrize("case", VIDEO_CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("command", ["spectrogram", "detect"])
def test_a_video_is_named_as_a_video(case, command, tmp_path, capsys):
    out = tmp_path / "out.png"
    assert main([command, str(written(tmp_path, case)), "-o", str(out)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "is a video, not a " in err, err
    assert err.endswith("open it on the Video page.")


@pytest.mark.parametrize("case", AUDIO_CASES, ids=lambda c: c.id)
def test_tags_command(case, tmp_path, capsys):
    require_model("yamnet")
    code = main(["tags", str(written(tmp_path, case)), "--json", "--top", "3"])
    if case.ok:
        assert code == 0
        result = json.loads(capsys.readouterr().out)
        assert len(result["labels"]) == 3 and result["segments"]
    else:
        assert code == 2
        assert_one_error_sentence(capsys)


@pytest.mark.parametrize("case", IMAGE_CASES, ids=lambda c: c.id)
def test_detect_command(case, tmp_path, capsys):
    out = tmp_path / "out.png"
    code = main(
        ["detect", str(written(tmp_path, case)), "--model", "haar-faces", "--json", "-o", str(out)]
    )
    if case.ok:
        assert code == 0
        result = json.loads(capsys.readouterr().out)
        with Image.open(out) as image:
            assert (image.width, image.height) == (
                result["image"]["width"],
                result["image"]["height"],
            )
        assert result["detections"] == []  # test cards hold no faces
    else:
        assert code == 2
        assert not out.exists()
        assert_one_error_sentence(capsys)


def test_exif_rotated_photo_is_reported_upright(tmp_path, capsys):
    case = next(c for c in IMAGE_CASES if c.id == "exif-rotated")
    assert main(["detect", str(written(tmp_path, case)), "--model", "haar-faces", "--json"]) == 0
    image = json.loads(capsys.readouterr().out)["image"]
    assert (image["width"], image["height"]) == (40, 60)
