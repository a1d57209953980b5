"""Whisper base on real French speech, its translation, the English-only model's refusal, and
sounds that are not speech: with the models, on real and generated recordings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.audio.decode import load_audio
from analysis.commands.cli import main
from analysis.speech.whisper import (
    WrongLanguageError,
    load_whisper,
    transcribe_audio,
)
from bench.speech_text import normalise, word_errors
from tests.conftest import require_model
from tests.support.prompts import french_prompt

pytestmark = pytest.mark.slow

# Prompts of a full sentence each: a person reading, over the telephone.
PROMPTS = ("conf-onlyone", "agent-loggedoff", "conf-placeintoconf", "vm-nomore")


@pytest.fixture(scope="module")
def base():
    require_model("whisper-base")
    return load_whisper("whisper-base")


@pytest.fixture(scope="module")
def tiny():
    require_model("whisper-tiny.en")
    return load_whisper("whisper-tiny.en")


@pytest.fixture(scope="module")
def french(base):
    """Each prompt's sentence and what Whisper base heard, language left to detect."""
    heard = {}
    for name in PROMPTS:
        path, text = french_prompt(name)
        clip = load_audio(path)
        heard[name] = (text, transcribe_audio(clip.samples, clip.sample_rate, base))
    return heard


def test_french_prompts_are_heard_as_french_with_their_words(french):
    errors = words = 0
    for name, (text, transcript) in french.items():
        assert transcript.language == "fr", f"{name}: {transcript.language}"
        assert transcript.language_probability > 0.5 and not transcript.unsure_language
        assert 1.25 <= transcript.language_speech_s <= 30
        reference = normalise(text, "fr")
        errors += word_errors(reference, normalise(transcript.text, "fr"))
        words += len(reference)
    assert errors / words <= 0.2, {name: t.text for name, (_, t) in french.items()}


def test_french_is_translated_to_english_on_request(base):
    path, _ = french_prompt("conf-onlyone")  # "Il n'y a qu'un seul participant dans cette…"
    clip = load_audio(path)
    english = transcribe_audio(clip.samples, clip.sample_rate, base, task="translate")
    assert english.task == "translate" and english.language == "fr"
    words = normalise(english.text)
    assert "participant" in words and ("conference" in words or "call" in words), english.text
    assert "il" not in words and "seul" not in words


def test_an_english_only_model_names_the_language_instead_of_guessing(tiny, base):
    path, _ = french_prompt("conf-onlyone")
    clip = load_audio(path)
    with pytest.raises(WrongLanguageError) as refused:
        transcribe_audio(clip.samples, clip.sample_rate, tiny, detector=base)
    message = str(refused.value)
    assert "seems to be" in message and "in French" in message
    assert "Whisper base" in message
    with pytest.raises(WrongLanguageError, match="in French"):
        transcribe_audio(clip.samples, clip.sample_rate, tiny, language="fr")
    with pytest.raises(WrongLanguageError, match="does not translate"):
        transcribe_audio(clip.samples, clip.sample_rate, tiny, task="translate", language="en")


def test_an_english_only_model_still_transcribes_english(tiny, base, speech_wav):
    clip = load_audio(speech_wav)
    transcript = transcribe_audio(clip.samples, clip.sample_rate, tiny, detector=base)
    assert "fox" in transcript.text.lower() and transcript.language == "en"


def signals(rate: int = 16_000, seconds: float = 6.0) -> dict[str, np.ndarray]:
    """Sounds with no voice: what a person drops in by mistake, or to try the app."""
    t = np.arange(round(rate * seconds)) / rate
    rng = np.random.default_rng(0)
    chime = np.zeros_like(t)
    for start, hz in ((0.0, 659.3), (0.7, 523.3), (1.6, 659.3), (2.3, 523.3)):
        after = t >= start
        tt = t[after] - start  # a struck bell: inharmonic partials, decaying
        chime[after] += sum(0.3 / k * np.sin(2 * np.pi * hz * k * tt) for k in (1, 2.76, 5.4)) * (
            np.exp(-2.5 * tt)
        )
    notes = np.repeat([261.6, 329.6, 392.0, 523.3, 392.0, 329.6] * 2, rate // 2)[: t.size]
    phase = 2 * np.pi * np.cumsum(notes) / rate
    music = 0.3 * np.sign(np.sin(phase)) * np.exp(-3 * (t % 0.5)) + 0.2 * np.sin(phase / 2)
    music += (np.sin(2 * np.pi * 2 * t) > 0.95) * rng.normal(0, 0.3, t.size)  # a drum
    return {
        "silence": np.zeros_like(t),
        "tone": 0.3 * np.sin(2 * np.pi * 440 * t),
        "chord": sum(0.1 * np.sin(2 * np.pi * hz * t) for hz in (261.6, 329.6, 392.0)),
        "noise": rng.normal(0, 0.1, t.size),
        "chime": chime,
        "music": music,
    }


@pytest.mark.parametrize("kind", list(signals()))
def test_sounds_that_are_not_speech_give_no_words(base, kind):
    transcript = transcribe_audio(signals()[kind].astype(np.float32), 16_000, base)
    assert transcript.segments == () and transcript.text == ""


def test_the_command_transcribes_french_and_says_so_in_json(base, capsys):
    path, _ = french_prompt("agent-loggedoff")  # "Vous n'êtes plus en ligne."
    assert main(["transcribe", str(path), "--json", "--language", "auto"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "whisper-base" and result["task"] == "transcribe"
    assert result["language"] == "fr" and 0.5 < result["language_probability"] <= 1
    assert "en ligne" in result["text"].lower()
    segment = result["segments"][0]
    assert -1.0 < segment["avg_logprob"] <= 0 and 0 <= segment["no_speech_prob"] < 0.6


def test_the_command_translates_and_takes_a_language_by_name(base, capsys):
    path, _ = french_prompt("conf-onlyone")
    assert main(["transcribe", str(path), "--language", "French", "--task", "translate"]) == 0
    captured = capsys.readouterr()
    assert "participant" in captured.out.lower(), captured.out
    assert captured.err.strip() == "Language: French (chosen)."


def test_the_command_with_an_english_only_model_names_the_language(tiny, base, capsys):
    path, _ = french_prompt("conf-onlyone")
    assert main(["transcribe", str(path), "--model", "whisper-tiny.en"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "in French" in captured.err and "Traceback" not in captured.err
