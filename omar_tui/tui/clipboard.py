"""Copying over SSH: OSC 52, and the copied text shown as well.

``App.copy_to_clipboard`` sends the text to the terminal as an OSC 52
sequence, which reaches the operator's own clipboard through SSH and tmux
when they allow it. Many terminals refuse it silently, so the text is also
shown in a toast: the operator can always read it or select it by hand.
"""

from __future__ import annotations

from textual.app import App


def copy_text(app: App[object], text: str, what: str) -> None:
    """Put ``text`` on the clipboard and say what was copied.

    Args:
        app: The running app (its terminal receives the OSC 52 sequence).
        text: What to copy.
        what: What it is, for the message ("File Id").
    """
    app.copy_to_clipboard(text)
    app.notify(
        f"Copied to the clipboard (if your terminal allows it). The {what} is: {text}",
        title=f"Copied {what}",
        timeout=8,
    )
