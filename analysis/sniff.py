"""Tell pictures, sounds and videos apart by their first bytes, so a file dropped on the wrong
page is named for what it is instead of being called damaged."""

from __future__ import annotations

import re

SNIFF_BYTES = 65_536
"""Bytes to read: enough for every signature below and, in most MP4 and Matroska files written
for streaming, for the track list that tells a video from a sound-only file."""

_PICTURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
_SOUNDS = (b"fLaC", b"OggS", b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")
# MPEG program stream pack header, MPEG-1/2 video sequence header.
_MPEG_STREAMS = (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")

# Major brands of ISO media files (MP4, MOV, 3GP, HEIF…) that are not videos.
_SOUND_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_PICTURE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}

# A Matroska CodecID element (ID 0x86, one-byte size) holding "V_…" (video) or "A_…" (audio).
_MATROSKA_CODEC = re.compile(rb"\x86[\x81-\xfe]([VA])_")


def file_kind(head: bytes) -> str | None:
    """``"picture"``, ``"sound"``, ``"video"`` or None (unknown) for a file starting with ``head``.

    Parameters
    ----------
    head : bytes
        The file's first bytes, ideally ``SNIFF_BYTES`` of them (fewer for a shorter file).
    """
    if head[4:8] == b"ftyp":
        return _iso_media_kind(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska or WebM
        codecs = {match.group(1) for match in _MATROSKA_CODEC.finditer(head)}
        return "sound" if codecs == {b"A"} else "video"
    if head.startswith(b"RIFF"):
        return {b"WAVE": "sound", b"WEBP": "picture", b"AVI ": "video"}.get(head[8:12])
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return "sound"
    if head.startswith(b"FLV\x01") and len(head) > 4:
        return "sound" if head[4] & 0x05 == 0x04 else "video"  # flags: 4 audio, 1 video
    if head.startswith(_MPEG_STREAMS) or _is_transport_stream(head):
        return "video"
    if head.startswith(_PICTURES) or (head.startswith(b"BM") and len(head) >= 6):
        return "picture"
    if head.startswith(_SOUNDS):
        return "sound"
    return None


def _iso_media_kind(head: bytes) -> str:
    """Kind of an ISO media file (MP4, MOV, 3GP, M4A, HEIF…) from its brand and its tracks.

    The track handlers ("vide", "soun") are only seen when the ``moov`` box is within ``head``;
    otherwise a file whose brand is neither a sound's nor a picture's is taken for a video.
    """
    brand = head[8:12]
    if brand in _SOUND_BRANDS:
        return "sound"
    if brand in _PICTURE_BRANDS:
        return "picture"
    # A handler box: size, "hdlr", version and flags (4 bytes), pre_defined (4), handler type.
    handlers = {head[m.end() + 8 : m.end() + 12] for m in re.finditer(b"hdlr", head)}
    return "sound" if b"soun" in handlers and b"vide" not in handlers else "video"


def _is_transport_stream(head: bytes) -> bool:
    """An MPEG transport stream: 188-byte packets (192 in Blu-ray .m2ts) each starting 0x47."""
    return any(
        len(head) > offset + 4 * size and all(head[offset + k * size] == 0x47 for k in range(5))
        for offset, size in ((0, 188), (4, 192))
    )
