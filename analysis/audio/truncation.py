"""Tell an audio file that was cut short (an interrupted download or copy) from a complete one,
using only what its container states about its own length.

libsndfile's frame count cannot decide this alone: for WAV and AIFF it is shrunk to the bytes
actually present, and for an MP3 without a Xing/Info header it is an estimate from the file's
size and its first frame (0.23 % too long for a complete 128 kbit/s file at 44.1 kHz, whose
frames differ by a padding byte). So each container is judged on what it states exactly.
"""

from __future__ import annotations

from mmap import mmap

Bytes = bytes | bytearray | memoryview | mmap
"""A whole file's content, in memory or mapped from disk."""

# Frames a lossy decode may end short of the stated count without the file being called cut:
# an Ogg's count comes from its last page's granule position, exact up to at most one codec
# packet (Vorbis blocks hold at most 8192 samples, Opus packets 5760).
_TOLERANCE_FRAMES = {"OGG": 8192}

# Chunk sizes a streaming writer leaves when it does not know the length yet.
_UNKNOWN_SIZES = (0, 0xFFFF_FFFF)

_OGG_MAX_PAGE = 27 + 255 + 255 * 255  # header, segment table, payload: bytes

# MPEG audio bitrates in kbit/s by bitrate index, for (MPEG-1?, layer).
_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_BITRATES[(False, 3)] = _BITRATES[(False, 2)]
# Sample rates in Hz by rate index, for the version bits (MPEG-2.5, reserved, MPEG-2, MPEG-1).
_SAMPLE_RATES = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}
# Header bits every frame of one stream shares: sync, version, layer, sample rate.
_MP3_CONSTANT_BITS = 0xFFFE_0C00
# Tags that may follow the last frame: ID3v1, APE, Lyrics3.
_MP3_TRAILERS = (b"TAG", b"APETAGEX", b"LYRICS")


def is_cut_short(data: Bytes, container: str, decoded: int, counted: int) -> bool:
    """Whether an audio file ends before the audio its container states.

    Parameters
    ----------
    data : Bytes
        The whole file.
    container : str
        libsndfile's format name: ``"WAV"`` (``"WAVEX"``, ``"RF64"``), ``"AIFF"``, ``"FLAC"``,
        ``"OGG"``, ``"MP3"``…
    decoded : int
        Frames (samples per channel) actually decoded.
    counted : int
        libsndfile's frame count for the file.

    Returns
    -------
    bool
        True when the container states more audio than the file holds: a WAV or AIFF sound
        chunk longer than the bytes left, an MP3 that ends inside a frame or holds fewer frames
        than its Xing/Info header states, an Ogg whose last page is incomplete or not marked as
        the end of the stream, or a decode that stopped short of an exact count (FLAC, Ogg).
    """
    if container == "MP3":
        return mp3_cut_short(data)  # libsndfile's count may be an estimate: not used
    if decoded + _TOLERANCE_FRAMES.get(container, 0) < counted:
        return True
    if container in ("WAV", "WAVEX", "RF64"):
        return chunk_cut_short(data, b"data", big_endian=bytes(data[:4]) == b"RIFX")
    if container == "AIFF":
        return chunk_cut_short(data, b"SSND", big_endian=True)
    if container == "OGG":
        return ogg_cut_short(data)
    return False


def chunk_cut_short(data: Bytes, sound_chunk: bytes, *, big_endian: bool) -> bool:
    """True when the RIFF/IFF chunk ``sound_chunk`` (WAV ``data``, AIFF ``SSND``) declares more
    bytes than the file holds after its start."""
    order = "big" if big_endian else "little"
    position = 12  # after "RIFF"/"FORM", the total size and the form type
    while position + 8 <= len(data):
        size = int.from_bytes(data[position + 4 : position + 8], order)
        if bytes(data[position : position + 4]) == sound_chunk:
            return size not in _UNKNOWN_SIZES and position + 8 + size > len(data)
        position += 8 + size + (size & 1)  # chunks are padded to an even length
    return False


def ogg_cut_short(data: Bytes) -> bool:
    """True when an Ogg file's last page runs past its end or lacks the end-of-stream flag."""
    tail_start = max(0, len(data) - _OGG_MAX_PAGE)
    found = bytes(data[tail_start:]).rfind(b"OggS")
    if found < 0:
        return False
    start = tail_start + found
    segments = start + 27
    if segments > len(data):
        return True
    count = data[segments - 1]
    end = segments + count + sum(bytes(data[segments : segments + count]))
    if end > len(data):  # also when the segment table itself is cut
        return True
    # Bytes after the last page are not Ogg at all: nothing stated to judge by.
    return end == len(data) and not data[start + 5] & 0x04


def mp3_cut_short(data: Bytes) -> bool:
    """True when an MPEG audio file ends inside a frame, or holds fewer frames than its Xing or
    Info header states.

    Frames are walked from the first one (after an ID3v2 tag); a walk that meets bytes that are
    neither a frame of the same stream nor a trailing tag gives up (False), since decoders skip
    such junk. A cut that falls exactly between two frames of a file without a Xing/Info header
    cannot be seen: such a file is a complete, shorter stream.
    """
    position = _after_id3v2(data)
    first = _frame_header(data, position)
    if first is None:
        return False
    stated = _xing_frames(data, position, first)
    frames = 0
    while position < len(data):
        header = _frame_header(data, position)
        if header is None or header & _MP3_CONSTANT_BITS != first & _MP3_CONSTANT_BITS:
            if bytes(data[position : position + 8]).startswith(_MP3_TRAILERS):
                break
            return False
        position += _frame_bytes(header)
        frames += 1
    if position > len(data):
        return True
    # The Xing/Info frame itself may or may not be in its own count: allow one frame.
    return stated is not None and frames < stated


def _after_id3v2(data: Bytes) -> int:
    """Offset just past the ID3v2 tags at the start (0 without one; some files carry several)."""
    position = 0
    while len(head := bytes(data[position : position + 10])) == 10 and head.startswith(b"ID3"):
        size = 0
        for byte in head[6:10]:  # "synchsafe": 7 bits per byte
            size = size << 7 | byte & 0x7F
        position += 10 + size + (10 if head[5] & 0x10 else 0)  # header, tag, footer
    return position


def _frame_header(data: Bytes, position: int) -> int | None:
    """The 32-bit MPEG audio frame header at ``position``, or None if there is none."""
    if len(data) - position < 4:
        return None
    header = int.from_bytes(data[position : position + 4], "big")
    if header >> 21 != 0x7FF:
        return None
    version, layer = header >> 19 & 3, header >> 17 & 3
    bitrate, rate = header >> 12 & 15, header >> 10 & 3
    # Reserved values; bitrate 0 is "free format", whose frame size no header states.
    if version == 1 or layer == 0 or bitrate in (0, 15) or rate == 3:
        return None
    return header


def _frame_bytes(header: int) -> int:
    """Length in bytes of the frame with a valid ``header``, the header included."""
    version, layer = header >> 19 & 3, 4 - (header >> 17 & 3)
    mpeg1 = version == 3
    kbps = _BITRATES[(mpeg1, layer)][header >> 12 & 15]
    rate = _SAMPLE_RATES[version][header >> 10 & 3]
    padding = header >> 9 & 1
    if layer == 1:
        return (12_000 * kbps // rate + padding) * 4
    per_frame = 144_000 if mpeg1 or layer == 2 else 72_000
    return per_frame * kbps // rate + padding


def _xing_frames(data: Bytes, position: int, header: int) -> int | None:
    """Frame count stated by a Xing or Info header in the frame at ``position``, if any."""
    mono = header >> 6 & 3 == 3
    side_info = (17 if mono else 32) if header >> 19 & 3 == 3 else (9 if mono else 17)
    tag = position + 4 + side_info
    if bytes(data[tag : tag + 4]) not in (b"Xing", b"Info"):
        return None
    flags = int.from_bytes(data[tag + 4 : tag + 8], "big")
    return int.from_bytes(data[tag + 8 : tag + 12], "big") if flags & 1 else None
