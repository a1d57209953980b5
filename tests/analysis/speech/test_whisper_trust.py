"""What keeps invented text out of a transcript, the language names and the language sentence:
pure functions, no model needed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from analysis.errors import InputError
from analysis.speech.languages import by_name, iso_code, language_name, whisper_code
from analysis.speech.transcript import (
    Segment,
    Transcript,
    Word,
    heard_language,
    nothing_heard,
)
from analysis.speech.trust import believable, compression_ratio, invented


def phrase(text: str, avg_logprob: float = -0.2, no_speech_prob: float = 0.05) -> Segment:
    return Segment(0.0, 1.0, text, (), avg_logprob, no_speech_prob)


def test_a_sure_phrase_is_kept_even_when_subtitles_end_with_it():
    assert not invented(phrase("Merci."))  # a real prompt: "Merci." said clearly
    assert not invented(phrase("Thank you.", avg_logprob=-0.3))
    assert invented(phrase("Thank you.", avg_logprob=-1.2, no_speech_prob=0.77))
    assert invented(phrase("Sous-titres réalisés par la communauté d'Amara.org", -0.9))


def test_a_window_whisper_finds_silent_and_unlikely_is_dropped():
    assert invented(phrase("Bonjour à tous", avg_logprob=-0.8, no_speech_prob=0.7))
    assert not invented(phrase("Bonjour à tous", avg_logprob=-0.3, no_speech_prob=0.7))


def test_a_doubtful_phrase_faster_than_anyone_speaks_is_dropped():
    # Whisper base, told French, on asterisk's "vm-from" (the lone word "de", 0.47 s).
    made_up = Segment(0.2, 0.64, "S'il ne sera pas comme ça, c'est ça !", (), -1.79, 0.1)
    assert invented(made_up)
    assert not invented(replace(made_up, avg_logprob=-0.3))  # said with confidence: kept
    # A real prompt at its reader's pace (21 characters a second), even when doubtful.
    read = Segment(0.1, 2.18, "Cette conférence est maintenant verrouillée.", (), -0.8, 0.1)
    assert not invented(read)
    # A short word's time counts as half a second: "Merci." in 0.1 s is not too fast.
    assert not invented(Segment(0.1, 0.2, "Merci.", (), -0.9, 0.1))


def test_a_loop_is_dropped():
    loop = "I'm going to go to the store. " * 8
    assert compression_ratio(loop) > 2.4 > compression_ratio("The birch canoe slid on the planks.")
    assert invented(phrase(loop))


def test_a_phrase_repeated_back_to_back_is_kept_once():
    said = [phrase("Hello there."), phrase("hello there"), phrase("Good morning."), phrase("")]
    assert [s.text for s in believable(said)] == ["Hello there.", "Good morning."]
    # The repeat of the phrase kept before a window (its last phrase) is dropped too.
    assert [s.text for s in believable(said[1:], previous=said[:1])] == ["Good morning."]


def test_languages_by_code_iso_code_or_name():
    assert whisper_code("French") == "fr" == whisper_code(" FR ")
    assert whisper_code("jv") == "jw" and iso_code("jw") == "jv" and iso_code("fr") == "fr"
    assert language_name("ko") == "Korean" and language_name("xx") == "xx"
    assert len(by_name()) == 100 and by_name()[0] == "af"  # Afrikaans first
    with pytest.raises(InputError, match="does not know the language “Klingon”"):
        whisper_code("Klingon")


def transcript(language: str, probability: float, model: str = "whisper-base") -> Transcript:
    return Transcript(model, language, probability, 1.0, (), np.zeros((0, 2)))


def test_the_language_sentence_says_how_sure_and_when_unsure():
    assert heard_language(transcript("fr", 0.97)) == "Language: French, 97% sure."
    unsure = transcript("es", 0.31)
    assert unsure.unsure_language
    assert heard_language(unsure).startswith("Language: perhaps Spanish, but only 31% sure")
    assert heard_language(transcript("de", 1.0)) == "Language: German (chosen)."
    english_only = transcript("en", 1.0, "whisper-tiny.en")
    assert heard_language(english_only) == "Language: English (English only)."


def test_a_language_told_from_a_second_of_speech_is_unsure_however_probable():
    from dataclasses import replace

    short = replace(transcript("pl", 0.71), language_speech_s=0.9)  # "neuf", heard as Polish
    assert short.unsure_language
    assert heard_language(short) == (
        "Language: perhaps Polish (71%), but told from only 0.9 s of speech: "
        "choose the language if that is wrong."
    )
    assert not replace(short, language_speech_s=2.5).unsure_language


def test_the_json_has_the_iso_language_the_task_and_each_phrases_confidence():
    said = Segment(0.0, 1.0, "Sugeng enjing", (), -0.25, 0.02)
    result = Transcript(
        "whisper-base", "jw", 0.9, 1.0, (said,), np.array([[0.0, 1.0]]), task="translate"
    ).to_dict()
    assert result["language"] == "jv" and result["task"] == "translate"
    assert result["language_probability"] == 0.9
    assert result["segments"][0]["avg_logprob"] == -0.25
    assert result["segments"][0]["no_speech_prob"] == 0.02
    assert said.confidence == pytest.approx(np.exp(-0.25))


def test_a_voice_whose_words_were_all_dropped_is_not_called_no_speech():
    silent = Transcript("whisper-base", "fr", 1.0, 3.0, (), np.zeros((0, 2)))
    assert nothing_heard(silent) == "No speech found."
    # A lone word whose only phrase was dropped as invented: the voice was still heard.
    voice = Transcript("whisper-base", "fr", 1.0, 3.0, (), np.array([[0.2, 1.0]]))
    assert nothing_heard(voice) == (
        "Something like speech was heard (0.8 s), but Whisper made out no words it trusts there."
    )
    assert (
        nothing_heard(voice, 1.5, 3.0, "1.50 s to 3.00 s") == "No speech found in 1.50 s to 3.00 s."
    )


def test_words_are_counted_as_a_reader_counts_them():
    def said(*pieces: str) -> Transcript:
        words = tuple(Word(0.0, 0.1, piece, 0.9) for piece in pieces)
        segment = Segment(0.0, 1.0, "".join(pieces), words, -0.2, 0.05)
        return Transcript("whisper-base", "fr", 1.0, 1.0, (segment,), np.zeros((0, 2)))

    # How Whisper base splits "C'est bon !" into words: two words, not four.
    assert said("C", "'est", " bon", " !").word_count == 2
    assert said(" The", " birch", " canoe", " slid.").word_count == 4
    assert said(" Qu", "'est", "-ce", " qu", "'il", " y", " a", " ?").word_count == 4
