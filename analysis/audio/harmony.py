"""Key and chords from a chromagram: Krumhansl–Schmuckler key profiles and triad templates.

Numpy over a chroma array of shape ``(12, frames)`` (pitch classes C, C#, …, B, as librosa's
chroma features give them); librosa (imported on first use) smooths the chord sequence.

>>> chroma = np.zeros((12, 4)); chroma[[0, 4, 7]] = 1.0  # C, E and G throughout
>>> estimate_key(chroma).name
'C major'
>>> [chord.name for chord in chord_segments(chroma, np.arange(5) * 0.5)]
['C']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
NO_CHORD = "N"  # no triad fits: silence, noise or a sound without a clear harmony

# Krumhansl & Kessler (1982): how well each pitch class fits a major and a minor key on C.
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

# Below this correlation with its profile, or this far from the next key that is not its
# relative major or minor, a key is a guess: the page says so rather than print it flatly.
# (Songs built on power chords, with no third, sit at 0.6–0.65 between major and minor.)
SURE_CORRELATION = 0.7
SURE_MARGIN = 0.05
# A triad must match a beat's chroma better than this (cosine) to be named: a flat chroma
# (noise, speech) matches every triad at about 0.5, music's chords at 0.55–0.85.
MIN_CHORD_MATCH = 0.6
_SOFTNESS = 0.05  # cosine difference per factor e in a chord's probability
STAY = 0.8  # chance that a chord goes on from one beat to the next


@dataclass(frozen=True)
class Key:
    """An estimated key.

    Attributes
    ----------
    name : str
        e.g. ``"A minor"``.
    confidence : float
        Pearson correlation of the chroma profile with the key's profile, 0–1.
    runner_up : str
        The next most likely key that is not this one's relative (e.g. ``"E minor"``).
    margin : float
        ``confidence`` minus the runner-up's correlation.
    relative : str
        The relative major or minor (same notes), e.g. ``"C major"`` for A minor.
    """

    name: str
    confidence: float
    runner_up: str
    margin: float
    relative: str

    @property
    def sure(self) -> bool:
        """Whether the estimate is clear enough to show without a warning."""
        return self.confidence >= SURE_CORRELATION and self.margin >= SURE_MARGIN


@dataclass(frozen=True)
class Chord:
    """A chord held from ``start_s`` to ``end_s`` (s); ``name`` e.g. ``"C"``, ``"Am"`` or
    :data:`NO_CHORD`."""

    start_s: float
    end_s: float
    name: str


def _key_names() -> list[str]:
    return [f"{pc} major" for pc in PITCH_CLASSES] + [f"{pc} minor" for pc in PITCH_CLASSES]


def key_scores(chroma: np.ndarray) -> np.ndarray:
    """Correlation of the summed chroma with each of the 24 key profiles.

    Parameters
    ----------
    chroma : np.ndarray
        Non-negative, shape ``(12, frames)``; louder frames weigh more.

    Returns
    -------
    np.ndarray
        shape ``(24,)``: C major … B major, then C minor … B minor; NaN-free, in [-1, 1]
        (0 for a flat profile).
    """
    profile = np.asarray(chroma, dtype=np.float64).reshape(12, -1).sum(axis=1)
    profiles = np.stack(
        [np.roll(_MAJOR, tonic) for tonic in range(12)]
        + [np.roll(_MINOR, tonic) for tonic in range(12)]
    )
    centred = profile - profile.mean()
    norm = np.linalg.norm(centred)
    if norm == 0:
        return np.zeros(24)
    centred_profiles = profiles - profiles.mean(axis=1, keepdims=True)
    return centred_profiles @ centred / (np.linalg.norm(centred_profiles, axis=1) * norm)


def estimate_key(chroma: np.ndarray) -> Key:
    """The key whose Krumhansl–Kessler profile best matches ``chroma`` (shape ``(12, frames)``).

    The margin is taken over keys other than the relative one (C major and A minor share
    their notes, so they are often close; the page names both then).
    """
    scores = key_scores(chroma)
    names = _key_names()
    best = int(np.argmax(scores))
    tonic, minor = best % 12, best >= 12
    relative = (tonic + 3) % 12 if minor else 12 + (tonic + 9) % 12
    others = [i for i in range(24) if i not in (best, relative)]
    runner_up = max(others, key=lambda i: scores[i])
    return Key(
        name=names[best],
        confidence=float(np.clip(scores[best], 0.0, 1.0)),
        runner_up=names[runner_up],
        margin=float(scores[best] - scores[runner_up]),
        relative=names[relative],
    )


def _triad_templates() -> tuple[np.ndarray, list[str]]:
    """Unit-norm templates of the 24 major and minor triads, shape ``(24, 12)``, and names."""
    templates, names = [], []
    for third, suffix in ((4, ""), (3, "m")):
        for root in range(12):
            template = np.zeros(12)
            template[[root, (root + third) % 12, (root + 7) % 12]] = 1.0
            templates.append(template / np.sqrt(3.0))
            names.append(PITCH_CLASSES[root] + suffix)
    return np.array(templates), names


def chord_probabilities(chroma: np.ndarray, min_match: float = MIN_CHORD_MATCH) -> np.ndarray:
    """How likely each of the 24 triads and :data:`NO_CHORD` is in each column of ``chroma``.

    Parameters
    ----------
    chroma : np.ndarray
        Non-negative, shape ``(12, n)``.
    min_match : float
        The cosine match that scores as well as no chord: a triad must match better.

    Returns
    -------
    np.ndarray
        shape ``(25, n)``, columns summing to 1: the triads of :func:`chord_names`, then N.
        A softmax of the cosine matches; a silent column is N.
    """
    templates, _ = _triad_templates()
    chroma = np.asarray(chroma, dtype=np.float64).reshape(12, -1)
    norms = np.linalg.norm(chroma, axis=0)
    match = templates @ (chroma / np.where(norms > 0, norms, 1.0))
    none = np.where(norms > 0, min_match, 1.0)
    scores = np.vstack([match, none]) / _SOFTNESS
    scores -= scores.max(axis=0)
    weights = np.exp(scores)
    return weights / weights.sum(axis=0)


def chord_names() -> list[str]:
    """The names of :func:`chord_probabilities`' rows: C … B, Cm … Bm, then N."""
    return [*_triad_templates()[1], NO_CHORD]


def label_chords(
    chroma: np.ndarray, min_match: float = MIN_CHORD_MATCH, stay: float = STAY
) -> list[str]:
    """The most likely sequence of chords over the columns of ``chroma`` (shape ``(12, n)``).

    A Viterbi pass (librosa's) over :func:`chord_probabilities`, where a chord stays from
    one column to the next with probability ``stay``: a melody note that makes one beat
    look like another triad does not break a held chord, while a real change, which every
    following beat confirms, is taken at once.
    """
    import librosa

    probabilities = chord_probabilities(chroma, min_match)
    names = chord_names()
    if probabilities.shape[1] == 0:
        return []
    transition = librosa.sequence.transition_loop(len(names), stay)
    path = librosa.sequence.viterbi_discriminative(probabilities, transition)
    return [names[state] for state in path]


def chord_segments(
    beat_chroma: np.ndarray, boundaries_s: np.ndarray, min_match: float = MIN_CHORD_MATCH
) -> list[Chord]:
    """Chords of beat-synchronous chroma, with repeats merged.

    Parameters
    ----------
    beat_chroma : np.ndarray
        shape ``(12, n)``: the chroma of each span between two boundaries.
    boundaries_s : np.ndarray
        shape ``(n + 1,)``, increasing times (s) of the spans' edges.
    min_match : float
        Least cosine match for a triad to be named.

    Returns
    -------
    list of Chord
        Consecutive spans with the same chord as one.
    """
    boundaries_s = np.asarray(boundaries_s, dtype=np.float64)
    labels = label_chords(beat_chroma, min_match)
    if len(boundaries_s) != len(labels) + 1:
        raise ValueError(f"{len(labels)} spans need {len(labels) + 1} boundaries")
    chords: list[Chord] = []
    for i, label in enumerate(labels):
        start, end = float(boundaries_s[i]), float(boundaries_s[i + 1])
        if chords and chords[-1].name == label:
            chords[-1] = Chord(chords[-1].start_s, end, label)
        else:
            chords.append(Chord(start, end, label))
    return chords
