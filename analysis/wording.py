"""Small pieces of the sentences Percept writes, shared by the pages and the command line."""


def plural(n: int, word: str) -> str:
    """``"1 error"``, ``"3 errors"``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
