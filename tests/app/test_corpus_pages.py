"""Every unusual or malformed file from the corpus, uploaded to both pages in AppTest.

A file that should work shows its result; one that should not shows exactly one error and
nothing half-drawn; either way no exception escapes, and the next good file in the same
session works.
"""

from __future__ import annotations

import pytest

from tests.support.corpus import (
    AUDIO_CASES,
    IMAGE_CASES,
    TRUNCATED_AUDIO_CASES,
    Case,
    gradient,
    jpeg,
    wav,
)

# Fixtures: the tags and speech sections are replaced by recorders (their own tests cover
# them); each vision test starts with empty caches.
__all__ = ["runs", "speech_calls", "tags_calls"]
from tests.app.test_audio_page import images, shows_result, speech_calls, tags_calls
from tests.app.test_audio_page import open_page as open_audio_page
from tests.app.test_audio_page import upload as upload_audio
from tests.app.test_vision_page import runs
from tests.app.test_vision_page import start as open_vision_page
from tests.app.test_vision_page import upload as upload_image

# Videos with sound: the Audio page analyses their soundtrack (the command line refuses them).
SOUNDTRACKS = {"video-mp4", "video-webm"}


@pytest.mark.parametrize("case", AUDIO_CASES + TRUNCATED_AUDIO_CASES, ids=lambda c: c.id)
def test_audio_page(case: Case, tags_calls):
    at = open_audio_page()
    upload_audio(at, case.name, case.make(), case.mime)
    if case.ok or case.id in SOUNDTRACKS:
        assert shows_result(at), [e.value for e in at.error]
        assert at.text[0].value == case.name
    else:
        assert len(at.error) == 1 and at.error[0].value.endswith("."), at.error
        assert not images(at)
    upload_audio(at, "next.wav", wav(seconds=1.5), "audio/wav")
    assert shows_result(at)


@pytest.mark.parametrize("case", IMAGE_CASES, ids=lambda c: c.id)
def test_vision_page(case: Case, runs):
    at = open_vision_page("haar-faces")
    upload_image(at, case.name, case.make(), case.mime)
    if case.ok:
        assert not at.error, [e.value for e in at.error]
        assert len(at.get("image")) == 2  # annotated and original
        assert at.text[0].value.startswith(f"{case.name} — ")
    else:
        assert len(at.error) == 1 and at.error[0].value.endswith("."), at.error
        assert not at.get("image") and not at.dataframe
    upload_image(at, "next.jpg", jpeg(gradient(320, 240)), "image/jpeg")
    assert not at.error
    assert at.text[0].value == "next.jpg — 320×240 px"
