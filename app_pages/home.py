"""Home: what each page does, a picture of it at work, and a one-click example."""

import streamlit as st
from streamlit.errors import StreamlitAPIException, StreamlitPageNotFoundError

from ui.sections.home import CARDS, Card, load_sample, picture, what_more_shows


def link(card: Card) -> None:
    """Link to the card's page; run on its own (no st.navigation) the page is a plain URL."""
    label = f"Open the {card.page} page"
    try:
        st.page_link(f"app_pages/{card.page}.py", label=label, icon=":material/arrow_forward:")
    except StreamlitPageNotFoundError:
        st.markdown(f"[{label}](/{card.page})")


def try_it(card: Card) -> None:
    """The button that opens the card's page with its sample loaded and analysed."""
    if st.button(card.try_label, key=f"home_try_{card.page}", type="primary"):
        load_sample(card.page)
        try:
            st.switch_page(f"app_pages/{card.page}.py")
        except StreamlitAPIException:  # the page run on its own, without the app's navigation
            st.markdown(f"Sample loaded: [open the {card.page} page](/{card.page})")


st.title("Percept")
st.write(
    "Drop in a sound, a picture or a video, or turn on a camera or microphone, and see what "
    "deep learning and signal processing find in it. Each picture below was made by this app "
    "just now, from samples that need no download."
)

for row in (CARDS[:3], CARDS[3:]):
    for column, card in zip(st.columns(3), row, strict=False):
        with column, st.container(border=True):
            st.subheader(card.title)
            with st.spinner("Making an example…"):
                shown = picture(card.page)
            if shown is not None:
                jpeg, caption = shown
                st.image(jpeg, caption=caption, width="stretch")
            st.write(card.text)
            more = what_more_shows(card.page)
            if more:
                st.caption(more)
            if card.try_label and shown is not None:
                try_it(card)
            link(card)
