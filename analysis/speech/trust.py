"""Which of Whisper's phrases to believe: the guards against text it invents.

Whisper was trained on subtitles, so over music, noise or silence it tends to write what
subtitles say there ("Thank you.", "Sous-titres réalisés par la communauté d'Amara.org"), and
on a hard stretch it can loop, repeating a phrase. Its decoder already skips a window it
finds silent and decodes again a window whose text loops (see ``whisper._decode``); what
gets through is checked here, phrase by phrase, with the confidence Whisper gives each one.

Example
-------
>>> kept = list(believable(decoded, previous=[]))  # doctest: +SKIP
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analysis.speech.transcript import Segment

# Whisper's own thresholds (openai/whisper transcribe.py), used by its decoder.
COMPRESSION_RATIO = 2.4  # text that gzip shrinks more than this is a loop
LOW_LOGPROB = -1.0  # mean token log probability below which a decoding is unlikely
NO_SPEECH_PROB = 0.6  # no-speech probability above which an unlikely decoding is silence

DOUBTFUL_WORD = 0.5  # a word less probable than this is shown as doubtful
DOUBTFUL_SEGMENT = -0.7  # mean log probability (≈ 50 % per token) below which a phrase is
# doubtful, and a phrase of the list below is taken as invented
# Characters a second no one says: read French prompts reach 21 over a phrase's own time,
# while a doubtful phrase invented over a lone word ("de" heard as "S'il ne sera pas comme
# ça, c'est ça !" in 0.44 s) reaches 74. A phrase's time counts as at least SHORTEST_S.
FASTEST_CHARS_PER_S = 30.0
SHORTEST_S = 0.5

# What Whisper writes over sound that is not speech: the closing lines of the subtitles it
# learnt from, normalised by :func:`plain`. Only dropped when Whisper itself is unsure.
SUBTITLE_PHRASES = frozenset(
    {
        "thank you",
        "thank you very much",
        "thanks for watching",
        "thank you for watching",
        "please subscribe",
        "bye",
        "you",
        "so",
        "oh",
        "sous titres realises par la communaute d amara org",
        "sous titrage st 501",
        "merci d avoir regarde cette video",
        "untertitel der amara org community",
        "untertitel im auftrag des zdf",
        "subtitulos realizados por la comunidad de amara org",
        "amara org",
    }
)


def plain(text: str) -> str:
    """Lower case, no accents, punctuation as spaces: what two phrases compare on."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def compression_ratio(text: str) -> float:
    """Length of the UTF-8 text over its zlib-compressed length (Whisper's loop measure)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def chars_per_second(segment: Segment) -> float:
    """Characters of a phrase's text over its time (s, at least :data:`SHORTEST_S`)."""
    return len(segment.text.strip()) / max(segment.end - segment.start, SHORTEST_S)


def invented(segment: Segment) -> bool:
    """Whether a phrase is most likely not what was said: a loop, a window Whisper itself
    finds silent, or said with doubt and either a subtitle's closing line or faster than
    anyone speaks."""
    if compression_ratio(segment.text) > COMPRESSION_RATIO:
        return True
    if segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < DOUBTFUL_SEGMENT:
        return True
    doubtful = segment.avg_logprob < DOUBTFUL_SEGMENT or segment.no_speech_prob > 0.3
    too_fast = chars_per_second(segment) > FASTEST_CHARS_PER_S
    return doubtful and (too_fast or plain(segment.text) in SUBTITLE_PHRASES)


def believable(segments: Iterable[Segment], previous: Sequence[Segment] = ()) -> Iterator[Segment]:
    """The phrases of ``segments`` that are not :func:`invented` nor a repeat of the phrase
    kept before them (``previous`` ends with the phrase kept before the first)."""
    last = plain(previous[-1].text) if previous else None
    for segment in segments:
        text = plain(segment.text)
        if not text or text == last or invented(segment):
            continue
        last = text
        yield segment
