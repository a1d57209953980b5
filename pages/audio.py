import streamlit as st

st.title("Audio")
st.info("Coming soon.")
