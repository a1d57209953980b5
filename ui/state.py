"""Page input and settings that survive navigation between pages and switching sources.

Streamlit forgets a widget's value, and an uploaded file, as soon as a run does not draw that
widget: going Audio → Vision → Audio, or switching the sound source to "Try a sample" and
back, would reset everything. A presenter must never have to upload again, so each page
keeps its own copy in the session:

- ``remember(key, default)`` for a control: pass the returned key to the widget, and the
  same default as its ``value=`` / ``index=``; its value comes back when it is drawn again.
- ``kept_file(slot, draw)`` for a file from an uploader, camera or microphone:
  the last one stays loaded until the person removes it or drops another.

Both are also kept on the server under the session's link (``?w=<id>`` in the address, see
``ui.store``): a reload, or the link opened in another browser, brings the same controls
and files back, and with them the results the server's caches hold for them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ui.store import StoreSettings, WorkStore, digest_of, new_id

log = logging.getLogger(__name__)

_VALUES = "_remembered_values"
_FILES = "_kept_files"
_LINK = "_link_id"  # this session's link id
_SAVED = "_link_saved"  # what was last written under it: (values, {slot: digest})
LINK_GONE = (
    "This link's work is no longer kept (it is unknown here, or older than links are kept), "
    "so the page starts empty."
)


@st.cache_resource(show_spinner=False)
def work_store() -> WorkStore | None:
    """The server's store of links, or None when links are turned off."""
    settings = StoreSettings.from_environment()
    return None if settings is None else WorkStore(settings)


def open_link() -> str | None:
    """This session's link id, in the address as ``?w=``; on a session's first run, the
    work of the link it was opened with is brought back (else one sentence says it is gone).

    Called by app.py before each page, and by remember() and kept_file() for a page run on
    its own; cheap after the first call.
    """
    store = work_store()
    if store is None:
        return None
    link = st.session_state.get(_LINK)
    if link is None:
        asked = st.query_params.get("w")
        saved = None if asked is None else store.load(asked)
        if asked is not None and saved is None:
            st.info(LINK_GONE, icon=":material/link_off:")
        link = asked if saved is not None else new_id()
        st.session_state[_LINK] = link
        if saved is not None:
            values = st.session_state.setdefault(_VALUES, {})
            values.update(saved.values)
            for key, value in saved.values.items():  # for state no widget draws (a zoom)
                st.session_state.setdefault(key, value)
            files = st.session_state.setdefault(_FILES, {})
            for slot, (name, data) in saved.files.items():
                digest = digest_of(data)
                files[slot] = KeptFile(name, data, digest, f"link-{digest}")
            st.session_state[_SAVED] = _snapshot()
    if st.query_params.get("w") != link:
        st.query_params["w"] = link
    return link


def _snapshot() -> tuple[dict[str, Any], dict[str, str]]:
    values = dict(st.session_state.get(_VALUES, {}))
    files = {slot: f.digest for slot, f in st.session_state.get(_FILES, {}).items()}
    return values, files


def _save() -> None:
    """Write the session's controls and files under its link, when they changed."""
    store, link = work_store(), st.session_state.get(_LINK)
    if store is None or link is None:
        return
    snapshot = _snapshot()
    if st.session_state.get(_SAVED) == snapshot:
        return
    kept = st.session_state.get(_FILES, {})
    files = {slot: (f.name, f.digest, f.data) for slot, f in kept.items()}
    try:
        store.save(link, snapshot[0], files)
    except OSError as error:  # a full or read-only disk: the page works on, unsaved
        log.warning("could not keep the work of a link: %s", error)
    st.session_state[_SAVED] = snapshot


def remember(key: str, default: Any) -> str:
    """The widget key ``key``, its value restored from earlier runs (else ``default``).

    Call it just before drawing the widget, every run, and give the widget ``default`` as
    its own ``value=`` / ``index=`` too: a browser that draws the widget before it hears the
    remembered value (a click during the page's first run) shows the widget's own default
    and sends it back, so a slider left without one would start at its minimum.
    """
    open_link()
    values = st.session_state.setdefault(_VALUES, {})
    if key in st.session_state:  # the widget was drawn last run: its value is the truth
        values[key] = st.session_state[key]
    else:  # first run, or the widget was away (another page, another source)
        st.session_state[key] = values.get(key, default)
    _save()
    return key


@dataclass(frozen=True)
class KeptFile:
    """A file a person gave the page: its name, bytes and a content hash for caches."""

    name: str
    data: bytes
    digest: str  # sha256 of ``data``, hex (shortened)
    file_id: str  # Streamlit's id of the upload it came from


def kept_file(slot: str, draw: Callable[[str], Any]) -> KeptFile | None:
    """The file of ``slot`` ("audio_upload", "vision_camera", ...) once its widget is drawn.

    ``draw(key)`` draws the uploader, camera or microphone widget with that key and returns
    what it holds (an ``UploadedFile`` or None). A new file replaces the kept one. An empty
    widget that held a file on the previous run means the person removed it; a widget drawn
    afresh (back from another page or source) is empty too, but then the kept file stays,
    named under the widget with a "Remove" button.
    """
    open_link()
    files: dict[str, KeptFile] = st.session_state.setdefault(_FILES, {})
    key, holding = f"{slot}_widget", f"_{slot}_widget_holds_a_file"
    drawn_last_run = key in st.session_state  # Streamlit drops the state of undrawn widgets
    new = draw(key)
    kept = files.get(slot)
    if new is not None:
        if kept is None or kept.file_id != new.file_id:
            data = new.getvalue()
            digest = hashlib.sha256(data).hexdigest()[:24]
            kept = files[slot] = KeptFile(new.name, data, digest, new.file_id)
    elif drawn_last_run and st.session_state.get(holding):
        files.pop(slot, None)  # the person removed the file from the widget
        kept = None
    st.session_state[holding] = new is not None
    _save()
    if kept is not None and new is None:  # the widget looks empty: say what is still loaded
        note, remove = st.columns([4, 1], vertical_alignment="center")
        note.text(f"Still loaded: {kept.name}")  # text, not markdown: a user's file name
        remove.button("Remove", key=f"{slot}_remove", on_click=forget_file, args=(slot,))
    return kept


def hand_over_file(
    slot: str, name: str, data: bytes, source: tuple[str, str] | None = None
) -> None:
    """Load ``data`` into another page's ``slot`` as if it had been dropped on its uploader.

    ``source`` = (remembered control key, value) also selects the input that shows the slot,
    e.g. ``("audio_source", "Upload a file")``.
    """
    digest = hashlib.sha256(data).hexdigest()[:24]
    st.session_state.setdefault(_FILES, {})[slot] = KeptFile(name, data, digest, f"given-{digest}")
    if source is not None:
        preset(*source)


def preset(key: str, value: Any) -> None:
    """Set the remembered control ``key`` of another page: it shows ``value`` when drawn next.

    Call it from a page where that control is not drawn (Home's "Try it"), or for state no
    widget draws that a link must keep (the spectrogram's zoom).
    """
    st.session_state.setdefault(_VALUES, {})[key] = value
    st.session_state[key] = value  # wins over whatever the widget held when last drawn


def keep_files(group: str, files: dict[str, bytes]) -> None:
    """Keep several files together (name → bytes: a model and its labels) in place of the
    group's earlier ones, as slots ``group/0``, ``group/1``…: a link brings them back."""
    kept: dict[str, KeptFile] = st.session_state.setdefault(_FILES, {})
    for slot in [slot for slot in kept if slot.startswith(f"{group}/")]:
        del kept[slot]
    for number, (name, data) in enumerate(sorted(files.items())):
        digest = digest_of(data)
        kept[f"{group}/{number}"] = KeptFile(name, data, digest, f"given-{digest}")
    _save()


def kept_files(group: str) -> dict[str, bytes]:
    """The files kept together by :func:`keep_files` (name → bytes); empty if none."""
    open_link()
    kept = st.session_state.get(_FILES, {})
    return {f.name: f.data for slot, f in kept.items() if slot.startswith(f"{group}/")}


def forget(key: str) -> None:
    """Drop the remembered value of ``key`` (set with :func:`preset`)."""
    st.session_state.setdefault(_VALUES, {}).pop(key, None)
    st.session_state.pop(key, None)


def forget_file(slot: str) -> None:
    """Drop the kept file of ``slot`` (for a "Remove" button's ``on_click``)."""
    st.session_state.setdefault(_FILES, {}).pop(slot, None)
