"""Tell pictures from sounds by their first bytes, so a file dropped on the wrong page is
named for what it is instead of being called damaged."""

SNIFF_BYTES = 12  # enough for every signature below

_PICTURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
_SOUNDS = (b"fLaC", b"OggS", b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")


def file_kind(head: bytes) -> str | None:
    """``"picture"``, ``"sound"`` or None (unknown) for a file starting with ``head``."""
    if head.startswith(b"RIFF"):
        return {b"WAVE": "sound", b"WEBP": "picture"}.get(head[8:12])
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return "sound"
    if head.startswith(_PICTURES) or (head.startswith(b"BM") and len(head) >= 6):
        return "picture"
    if head.startswith(_SOUNDS):
        return "sound"
    return None
