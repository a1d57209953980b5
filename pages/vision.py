import streamlit as st

st.title("Vision")
st.info("Coming soon.")
