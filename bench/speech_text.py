"""Word error rate for the speech benchmarks: texts normalised as a person would compare them.

Lower case, accents and punctuation taken off, digits spelled as words (Whisper writes "1"
where a speaker says "un"), so that only words a listener would call wrong count.
"""

from __future__ import annotations

import re
import unicodedata

# The numbers the asterisk prompts say, as words: a reference says "appuyez sur 1" as often as
# "appuyez sur un", and Whisper writes either.
NUMBERS = {
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    "fr": ("zero", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix"),
}


def normalise(text: str, language: str = "en") -> list[str]:
    """The words of ``text``: lower case, no accents or punctuation, digits 0–10 as words.

    Apostrophes split French elisions ("l'heure" is "l heure") and stay inside English words
    ("it's" is one word).
    """
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("-", " ").replace("’", "'")
    if language != "en":
        text = text.replace("'", " ")
    words = re.sub(r"[^a-z0-9' ]+", " ", text).split()
    numbers = NUMBERS.get(language, NUMBERS["en"])
    return [numbers[int(w)] if w.isdigit() and int(w) < len(numbers) else w for w in words]


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
