"""Audio: drop in a sound, see its spectrogram and waveform, listen to any part of it."""

from __future__ import annotations

import streamlit as st

from analysis.audio.decode import AudioClip
from analysis.errors import InputError
from ui import device
from ui.sections.music import show_music
from ui.sections.reading import Opened, open_sound, show_reading
from ui.sections.sound import (
    BROWSER_PLAYABLE,
    decode,
    encoding_name,
    facts_line,
    format_duration,
    playable,
    sample_clip,
    show_input_error,
    show_unexpected,
)
from ui.sections.spectrogram import spectrogram_section, time_range
from ui.sections.speech import show_speech
from ui.sections.tags import show_tags
from ui.state import kept_file, remember

st.title("Audio")
st.caption(
    "Drop in a sound to see its spectrogram — which frequencies are loud, and when — "
    "and its waveform. Everything is computed here, at the file's own sample rate."
)

SOURCES = ["Upload a file", "Record", "Try a sample"]
source = st.radio(
    "Sound source",
    SOURCES,
    horizontal=True,
    label_visibility="collapsed",
    key=remember("audio_source", SOURCES[0]),
)
clip: AudioClip | None = None
file_key = name = ""
opened: Opened | None = None  # an upload: the whole file, or its first part while it decodes
duration_s = 0.0  # the whole file's
playback: tuple[bytes, str] | None = None
try:
    if source == "Upload a file":
        kept = kept_file(
            "audio_upload",
            lambda key: st.file_uploader(
                "Drop an audio file here: WAV, FLAC, OGG, Opus, MP3 or AIFF, or a video for "
                "its soundtrack",
                # No type filter: Streamlit would drop a wrong file without a word, where the
                # decoder says what is wrong with it.
                help="Any sample rate and number of channels; a video (MP4, MOV, WebM, AVI…) "
                "is analysed by its sound; other kinds of file are refused.",
                key=key,
            ),
        )
        if kept is not None:
            name = kept.name
            with st.spinner("Decoding the file…"):
                opened = open_sound(kept.digest, kept.data, name)
            clip, file_key, duration_s = opened.clip, opened.file_key, opened.duration_s
            if clip.format in BROWSER_PLAYABLE and clip.channels <= 2:
                playback = (kept.data, BROWSER_PLAYABLE[clip.format])
    elif source == "Record":
        kept = kept_file(
            "audio_recording",
            lambda key: st.audio_input("Record from your microphone", sample_rate=None, key=key),
        )
        if kept is not None:
            file_key, name = kept.digest, "recording.wav"
            clip = decode(file_key, kept.data, name)
            duration_s = clip.duration
            playback = (kept.data, "audio/wav")
    else:
        st.caption(
            "A synthesized sample: a rising chirp, a tone with harmonics that steps up a "
            "fifth half-way, three noise bursts and a faint noise floor."
        )
        clip, sample_wav = sample_clip()
        duration_s = clip.duration
        file_key, name, playback = "sample", "sample.wav", (sample_wav, "audio/wav")
except InputError as error:
    show_input_error(str(error), name)  # the file's name in it, shown literally
except Exception as error:
    show_unexpected(error)

if clip is None:
    if not file_key and source == "Upload a file":
        st.info("Drop a file above, record one, or try the sample.")
    st.stop()

st.text(name)  # text, not markdown: a user's file name
if device.is_phone():  # one line, so the spectrogram starts on the first screen
    st.caption(facts_line(clip, duration_s))
else:
    # Tiles as wide as their values, wrapping on a narrow window: five equal columns cut
    # "16-bit PCM" and "10:00.0 min" short.
    with st.container(horizontal=True, gap="medium"):
        st.metric("Duration", format_duration(duration_s), width="content")
        st.metric("Sample rate", f"{clip.sample_rate:,} Hz", width="content")
        st.metric("Channels", clip.channels, width="content")
        st.metric("Format", clip.format, width="content")
        st.metric("Encoding", encoding_name(clip.subtype), width="content")
if clip.from_video:
    st.info(
        "This is a video: the page analyses its soundtrack. Its pictures are on the Video page.",
        icon=":material/movie:",
    )
for warning in clip.warnings:
    st.warning(warning)

# The time range drives everything below it (pictures, playback, tags, speech); a box dragged
# on the spectrogram sets it too.
start_s, end_s, range_key, whole_file = time_range(clip, file_key)
sound = playable(clip, file_key, playback, start_s, end_s, whole_file)

spectrogram_section(clip, file_key, name, start_s, end_s, sound)
if opened is not None and opened.reading is not None:  # what follows needs the whole file
    show_reading(opened, kept.digest, kept.data, name)
    st.stop()
try:
    show_tags(clip, start_s, end_s, file_key)
except Exception as error:
    show_unexpected(error)
try:
    show_speech(clip, start_s, end_s, file_key, range_key=range_key, source_name=name)
except Exception as error:
    show_unexpected(error)
try:
    show_music(clip, start_s, end_s, file_key)
except Exception as error:
    show_unexpected(error)
