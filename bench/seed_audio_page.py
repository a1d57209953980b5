"""The seed blog post's spectrogram recipe as a Streamlit page: the benchmark's baseline.

librosa.load with defaults (resampled to 22 050 Hz, mono) → librosa.stft →
amplitude_to_db → librosa.display.specshow on a log axis → st.pyplot, on every rerun.
"""

import librosa
import librosa.display
import matplotlib.pyplot as plt
import numpy as np
import streamlit as st

uploaded = st.file_uploader("Upload an audio file", type=["wav", "flac", "ogg", "mp3"])
n_fft = st.select_slider("FFT size", [256, 512, 1024, 2048, 4096, 8192, 16384], value=2048)
if uploaded is not None:
    y, sr = librosa.load(uploaded)
    D = librosa.stft(y, n_fft=n_fft)
    S_db = librosa.amplitude_to_db(np.abs(D), ref=np.max)
    fig, ax = plt.subplots(figsize=(14, 5))
    img = librosa.display.specshow(S_db, sr=sr, x_axis="time", y_axis="log", ax=ax)
    fig.colorbar(img, ax=ax, format="%+2.0f dB")
    st.pyplot(fig)
    plt.close(fig)
