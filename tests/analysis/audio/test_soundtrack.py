"""A video's soundtrack decoded with PyAV, and load_media telling sounds and videos apart."""

from __future__ import annotations

import pytest

from analysis.audio.soundtrack import load_media, load_soundtrack
from analysis.errors import InputError
from tests.support.corpus import VIDEO_CASES, wav


def case(case_id: str):
    return next(c for c in VIDEO_CASES if c.id == case_id)


@pytest.mark.parametrize(
    ("case_id", "fmt", "codec"),
    [("video-mp4", "MP4", "AAC"), ("video-webm", "Matroska/WebM", "OPUS")],
)
def test_a_videos_sound_is_decoded_at_its_own_rate(case_id, fmt, codec):
    clip = load_media(case(case_id).make(), name="clip")
    assert clip.from_video and (clip.format, clip.subtype) == (fmt, codec)
    assert clip.sample_rate == 48000 and clip.duration == pytest.approx(0.4, abs=0.02)
    assert clip.samples.dtype.name == "float32" and not clip.samples.flags.writeable


def test_a_silent_video_is_one_sentence():
    with pytest.raises(InputError, match=r"“clip\.avi” is a video without sound"):
        load_media(case("video-avi").make(), name="clip.avi")


def test_damage_is_one_sentence_and_a_sound_still_goes_to_load_audio():
    with pytest.raises(InputError, match="could not be read as a video"):
        load_soundtrack(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100, name="bad.mp4")
    clip = load_media(wav(seconds=0.5), name="tone.wav")
    assert not clip.from_video and clip.format == "WAV"


def test_a_real_avi_with_ac3_sound(opencv_data):
    clip = load_media(opencv_data / "Megamind.avi")
    assert clip.from_video and clip.subtype == "AC3" and clip.channels == 2
    assert clip.duration == pytest.approx(11.2, abs=0.2)
