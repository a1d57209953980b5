"""Real French speech with its text: Asterisk's telephone prompts, read by a person (8 kHz).

Debian's ``asterisk-core-sounds-fr-wav`` has the recordings and ``asterisk-core-sounds-fr``
their sentences (``scripts/install-test-tools.sh`` installs both).
"""

from __future__ import annotations

import gzip
from pathlib import Path

from tests.conftest import skip_or_fail

SOUNDS = Path("/usr/share/asterisk/sounds/fr")
TEXTS = Path("/usr/share/doc/asterisk-core-sounds-fr/core-sounds-fr.txt.gz")


def french_prompt(name: str) -> tuple[Path, str]:
    """The recording of prompt ``name`` (e.g. "conf-onlyone") and the sentence it says."""
    path = SOUNDS / f"{name}.wav"
    if not path.is_file() or not TEXTS.is_file():
        skip_or_fail(
            "French prompts need Debian's asterisk-core-sounds-fr and asterisk-core-sounds-fr-wav",
            "PERCEPT_REQUIRE_TOOLS",
        )
    with gzip.open(TEXTS, "rt", encoding="utf-8") as lines:
        texts = dict(line.strip().partition(": ")[::2] for line in lines if ": " in line)
    return path, texts[name]
