"""Live: the camera or the microphone, analysed while they stream (streamlit-webrtc)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import streamlit as st
from streamlit_webrtc import WebRtcMode, create_audio_sink_track, webrtc_streamer

from analysis.audio.decode import to_wav_bytes
from analysis.audio.render import render_spectrogram
from analysis.audio.spectrogram import to_db
from analysis.errors import InputError
from analysis.live.camera import LiveSettings, LiveVideo
from analysis.live.microphone import LiveAudio, rolling_spectrogram, tag_last_second
from analysis.vision.detections import DEFAULT_CONFIDENCE, DetectionFilter
from analysis.vision.detectors import MIN_CANDIDATE_SCORE, is_available, vision_models
from analysis.vision.image import encode_png
from models.catalog import CATALOG
from models.locate import MissingModelError
from ui.counts import counts_text
from ui.sections.live import (
    TRANSLATIONS,
    ice_servers,
    just_started,
    live_detector,
    live_yamnet,
    send_to_audio_page,
)

# Every rerun, even a fragment's, takes turns with WebRTC on the server's event loop. On 2
# cores, polled every 0.5 s the stream ran at 22 fps (5-14 when busy), every 2 s at 28 (22).
STATS_EVERY_S = 2.0
WINDOW_S = 10.0  # seconds of sound in the scrolling spectrogram
DB_RANGE = 80.0  # dB below full scale where the spectrogram's colours stop

st.title("Live")
st.caption(
    "Your camera or microphone, analysed as it streams: press Start and allow access. "
    "The sliders act on the next frame, without restarting the stream."
)

try:
    rtc_configuration = {"iceServers": ice_servers()}
except InputError as error:
    st.error(str(error))
    st.stop()

source = st.radio("Stream", ["Camera", "Microphone"], horizontal=True, key="live_source")

# -- Camera ----------------------------------------------------------------------------------
if source == "Camera":
    stream_col, settings_col = st.columns([3, 2], gap="large")
    with settings_col:
        available = [spec.name for spec in vision_models() if is_available(spec)]
        model = st.selectbox("Model", available, format_func=lambda name: CATALOG[name].title)
        confidence = st.slider(
            "Confidence threshold", MIN_CANDIDATE_SCORE, 1.0, DEFAULT_CONFIDENCE, 0.05
        )
        iou = st.slider("Overlap (IoU) for merging boxes", 0.1, 1.0, 0.45, 0.05)
        try:
            detector = live_detector(model)
        except MissingModelError as error:
            st.error(str(error))
            st.stop()
        chosen = st.multiselect(
            "Classes to show (empty shows all)", detector.class_names, key=f"live_classes_{model}"
        )
        track = st.toggle("Follow objects with ids (ByteTrack)", key="live_track")

    settings = LiveSettings(
        model, detector, DetectionFilter(confidence, iou, tuple(chosen) or None), track
    )
    # One holder per browser session: its stream, detector settings and tracker are its own.
    video: LiveVideo | None = st.session_state.get("live_video")
    if video is None:
        video = st.session_state["live_video"] = LiveVideo(settings)
    video.configure(settings)

    with stream_col:
        camera = webrtc_streamer(
            key="live-camera",
            mode=WebRtcMode.SENDRECV,
            rtc_configuration=rtc_configuration,
            media_stream_constraints={
                "video": {"width": {"ideal": 640}, "height": {"ideal": 480}},
                "audio": False,
            },
            video_frame_callback=video.frame_callback,
            # Frames arriving while one is processed are dropped, never queued.
            async_processing=True,
            translations=TRANSLATIONS,
        )
        playing = camera.state.playing
        if just_started("camera", playing):
            video.restart()

        @st.fragment(run_every=STATS_EVERY_S if playing else None)
        def camera_stats() -> None:
            stats = video.stats()
            if not playing:
                st.caption("Press Start to stream from the camera.")
            elif stats.frames == 0:
                st.caption("Waiting for the first frame…")
            else:
                st.markdown(
                    f"**{stats.fps:.1f} fps** · {stats.frame_ms:.0f} ms per frame · "
                    f"{stats.frames} frames"
                )
                in_view = counts_text(stats.counts)
                st.text(f"In view: {in_view or 'nothing above the threshold'}")

        camera_stats()

    with settings_col:
        if st.button("Keep this frame", disabled=not playing):
            st.session_state["live_snapshot"] = video.snapshot()

        def toggle_recording() -> None:
            if st.session_state["live_record"]:
                handle, path = tempfile.mkstemp(prefix="percept-live-", suffix=".mp4")
                os.close(handle)  # the MP4 writer opens it again by its name
                video.start_recording(Path(path))
                return
            path = video.stop_recording()
            st.session_state["live_recording"] = path.read_bytes() if path else None
            if path:
                path.unlink(missing_ok=True)

        st.toggle("Record the annotated stream", key="live_record", on_change=toggle_recording)

    snapshot = st.session_state.get("live_snapshot")
    recording = st.session_state.get("live_recording", b"")
    if snapshot is not None or recording:
        kept_col, recorded_col = st.columns(2, gap="large")
    if snapshot is not None:
        with kept_col:
            st.subheader("Kept frame")
            st.image(snapshot.rgb, width="stretch")
            png_col, json_col = st.columns(2)
            png_col.download_button(
                "Download frame (PNG)",
                lambda: encode_png(snapshot.rgb),
                file_name="live_frame.png",
                mime="image/png",
                on_click="ignore",
            )
            json_col.download_button(
                "Download detections (JSON)",
                snapshot.to_json(),
                file_name="live_frame_detections.json",
                mime="application/json",
                on_click="ignore",
            )
    if recording is None:
        st.info("Nothing was recorded: start the camera, then switch recording on.")
    elif recording:
        with recorded_col:
            st.subheader("Recording")
            st.video(recording, format="video/mp4")
            st.download_button(
                "Download recording (MP4)",
                recording,
                file_name="live_recording.mp4",
                mime="video/mp4",
                on_click="ignore",
            )

# -- Microphone ------------------------------------------------------------------------------
else:
    audio: LiveAudio | None = st.session_state.get("live_audio")
    if audio is None:
        audio = st.session_state["live_audio"] = LiveAudio()
    microphone = webrtc_streamer(
        key="live-microphone",
        mode=WebRtcMode.SENDRECV,
        rtc_configuration=rtc_configuration,
        media_stream_constraints={"audio": True, "video": False},
        # A sink gets every frame in order (a frame callback would drop late ones); nothing
        # is sent back, so the speakers never echo the microphone.
        sink_audio_track=create_audio_sink_track(audio.frame_callback, key="live-microphone"),
        sendback_video=False,
        sendback_audio=False,
        translations=TRANSLATIONS,
    )
    playing = microphone.state.playing
    if just_started("microphone", playing):
        audio.clear()
    try:
        yamnet = live_yamnet()
    except MissingModelError as error:
        yamnet = None
        tags_off = f"Sound-event tags are off. {error}"

    @st.fragment(run_every=1.0 if playing else None)
    def microphone_view() -> None:
        if audio.heard_s == 0:
            st.caption("Listening…" if playing else "Press Start to listen to the microphone.")
            return
        level = audio.level()
        meter_col, tags_col = st.columns([2, 3], gap="large")
        meter_col.progress(
            min(1.0, max(0.0, 1.0 + level.rms_db / 60.0)),
            text=f"Level {level.rms_db:.0f} dB RMS · peak {level.peak_db:.0f} dB (re full scale)",
        )
        samples = audio.last(WINDOW_S)
        with tags_col:
            if yamnet is None:
                st.caption(tags_off)
            elif tags := tag_last_second(samples, audio.sample_rate, yamnet):
                st.text("Hearing: " + ", ".join(f"{t.label} {t.score:.2f}" for t in tags))
        spec = rolling_spectrogram(samples, audio.sample_rate, WINDOW_S)
        db, _ = to_db(spec.power, db_range=DB_RANGE)
        st.image(
            render_spectrogram(spec, db, db_floor=-DB_RANGE, db_top=0.0, image_format="jpeg"),
            width="stretch",
        )

    microphone_view()

    if not playing and audio.heard_s > 0:
        wav = to_wav_bytes(audio.last(audio.heard_s), audio.sample_rate)
        wav_col, send_col = st.columns(2)
        wav_col.download_button(
            "Download what was heard (WAV)",
            wav,
            file_name="live_recording.wav",
            mime="audio/wav",
            on_click="ignore",
            help="The last two minutes at most, mono.",
        )
        if send_col.button("Analyse it on the Audio page"):
            send_to_audio_page("live_recording.wav", wav)
