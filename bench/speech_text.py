"""Word error rate for the speech benchmarks: texts normalised as a person would compare them.

Lower case, accents and punctuation taken off, numbers spelled as words (Whisper writes "17"
or "12e" where a speaker says "dix-sept" or "douzième"; num2words spells them), so that only
words a listener would call wrong count.
"""

from __future__ import annotations

import re
import unicodedata

from num2words import num2words

# "12e", "12ème", "1er", "1re": an ordinal written in digits (accents already taken off).
ORDINAL = re.compile(r"(\d+)(st|nd|rd|th|e|eme|ieme|er|re|ere)")
# Spellings of the same number that only the plural rules tell apart ("quatre-vingt(s)").
SAME_WORD = {"vingts": "vingt", "cents": "cent"}


def normalise(text: str, language: str = "en") -> list[str]:
    """The words of ``text``: lower case, no accents or punctuation, numbers as words.

    Apostrophes split French elisions ("l'heure" is "l heure") and stay inside English words
    ("it's" is one word).
    """
    text = _plain(text)
    words = []
    for word in re.sub(r"[^a-z0-9' ]+", " ", text).split():
        ordinal = ORDINAL.fullmatch(word)
        if word.isdigit():
            word = _plain(num2words(int(word), lang=language))
        elif ordinal:
            word = _plain(num2words(int(ordinal[1]), to="ordinal", lang=language))
        words.extend(SAME_WORD.get(w, w) for w in word.split())
    if language != "en":
        words = [w for word in words for w in word.split("'") if w]
    return words


def _plain(text: str) -> str:
    """Lower case, no accents, hyphens and commas as spaces (num2words writes both)."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("-", " ").replace(",", " ").replace("’", "'")


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions + deletions + insertions: the word-level Levenshtein distance."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[j] + 1,
                    current[j - 1] + 1,
                    previous[j - 1] + (ref_word != hyp_word),
                )
            )
        previous = current
    return previous[-1]
