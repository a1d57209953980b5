"""Names for files Percept writes, derived from names users supply."""

import re
from pathlib import PurePath


def safe_stem(file_name: str, default: str) -> str:
    """A download-safe stem of a user-supplied file name.

    Keeps letters, digits and ``._-`` (anything else becomes ``_``), drops any folders,
    and caps the length at 60 characters; ``default`` stands in when nothing is left.
    """
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", PurePath(file_name).stem).strip("._-")
    return stem[:60] or default
