"""Drawing for terminals without Unicode box and block glyphs (the Linux console).

The Linux console's fonts hold about 512 glyphs: ASCII, the box-drawing
lines and the full and half blocks, but not the eighth blocks Textual uses
for scrollbar ends, progress bars and key separators, nor emoji. On such a
terminal (``TERM=linux`` and a few others) the app adds the ``-ascii`` class
(``omar.tcss`` swaps borders for ASCII ones) and calls :func:`use_plain_glyphs`
for what CSS cannot reach: scrollbar thumbs, the progress bar and the key
names shown in the footer and help.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.renderables.bar import Bar
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.widgets import ProgressBar

PLAIN_TERMS = frozenset({"linux", "vt100", "vt220", "ansi"})
"""``TERM`` values whose fonts may lack the glyphs Textual draws with."""

KEY_NAMES: Mapping[str, str] = {
    "⏎": "enter",
    "↑": "up",
    "↓": "down",
    "←": "left",
    "→": "right",
    "⇥": "tab",
}
"""Key symbols Textual shows, and the words shown instead on a plain console."""


def plain_console(environ: Mapping[str, str] = os.environ) -> bool:
    """True on terminals that may lack box-drawing and block glyphs."""
    return environ.get("TERM", "") in PLAIN_TERMS


class PlainScrollBarRender(ScrollBarRender):
    """Scrollbar thumbs in whole cells of reverse video: no eighth blocks."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * 8
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "] * 8


class PlainBar(Bar):
    """A progress bar drawn with ``#`` (done) and ``-`` (to do)."""

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> RenderResult:
        width = self.width or options.max_width
        start, end = (max(0, min(width, round(x))) for x in self.highlight_range)
        end = max(start, end)
        done = console.get_style(self.highlight_style)
        todo = console.get_style(self.background_style)
        text = Text(end="")
        text.append("-" * start, style=todo)
        text.append("#" * (end - start), style=done)
        text.append("-" * (width - end), style=todo)
        yield text


class PlainProgressBar(ProgressBar):
    """Textual's progress bar, drawn with ASCII characters."""

    BAR_RENDERABLE = PlainBar


def progress_bar(*, plain: bool, **options: Any) -> ProgressBar:
    """A progress bar that reads on this terminal (``plain``: ASCII only)."""
    if plain:
        return PlainProgressBar(**options)
    return ProgressBar(**options)


def use_plain_glyphs() -> type[ScrollBarRender]:
    """Draw scrollbars without eighth blocks, for the rest of the process.

    Returns:
        The renderer that was in use, for :func:`restore_glyphs`.
    """
    previous = ScrollBar.renderer
    ScrollBar.renderer = PlainScrollBarRender
    return previous


def restore_glyphs(previous: type[ScrollBarRender]) -> None:
    """Undo :func:`use_plain_glyphs` (tests run several apps in one process)."""
    ScrollBar.renderer = previous


def plain_key(display: str) -> str:
    """A key as shown on a plain console: symbols become words."""
    return KEY_NAMES.get(display, display)
