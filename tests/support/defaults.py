"""Controls whose browser-side default is not the value the page starts them at.

A browser that draws a widget before it hears the value the server put in session state (a
click while the page's first run is still going) shows the widget's own default and sends it
back: a remembered slider drawn without ``value=`` then starts at its minimum. So every
control's own default must be the value the page starts it at.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def own_default(widget) -> object:
    """What the browser would show for ``widget`` knowing only its element."""
    proto = widget.proto
    if widget.type in ("selectbox", "radio"):
        return widget.options[proto.default] if proto.HasField("default") else None
    if widget.type == "slider":
        values = list(proto.default)
        return values[0] if len(values) == 1 else tuple(values)
    return proto.default


def started_elsewhere(at: AppTest) -> list[str]:
    """Labels of the controls whose value is not their own default, on a page just opened."""
    widgets = [*at.slider, *at.toggle, *at.checkbox, *at.selectbox, *at.radio]
    wrong = []
    for widget in widgets:
        value = widget.value
        value = widget.format_func(value) if widget.type in ("selectbox", "radio") else value
        default = own_default(widget)
        if isinstance(value, float) and isinstance(default, float):
            same = abs(value - default) < 1e-9
        else:
            same = value == default
        if not same:
            wrong.append(f"{widget.label}: starts at {value!r}, its own default is {default!r}")
    return wrong
