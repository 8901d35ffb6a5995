"""Render every screen of omar-tui as an 80x24 SVG into ``screenshots/``.

Usage::

    .venv/bin/python scripts/screenshots.py [--png] [--out DIR] [scene ...]

The scenes (``omar_tui.tui.scenes``) build the demo's sample data with fixed
contents, ages, history times and folders, so running this twice gives the
same files; the snapshot tests hold the same scenes still. ``--png`` also
converts each SVG with ``rsvg-convert`` when it is installed, for a quick
look at how readable the screens are.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

from omar_tui.tui.scenes import SCENES, SIZE, Scene, scene, scene_app

REPO = Path(__file__).resolve().parent.parent


async def render(item: Scene) -> str:
    """The SVG of one scene."""
    with scene_app(item) as app:
        async with app.run_test(size=SIZE) as pilot:
            await item.drive(pilot)
            await pilot.pause()
            return app.export_screenshot(title=f"omar-tui: {item.title}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="scenes to render (default: all)")
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--png", action="store_true", help="also write PNGs")
    args = parser.parse_args(argv)

    chosen = [scene(n) for n in args.names] if args.names else list(SCENES)
    args.out.mkdir(parents=True, exist_ok=True)
    converter = shutil.which("rsvg-convert") if args.png else None
    if args.png and converter is None:
        print("rsvg-convert not found: PNGs skipped", file=sys.stderr)

    for item in chosen:
        svg_path = args.out / f"{item.name}.svg"
        svg_path.write_text(asyncio.run(render(item)), encoding="utf-8")
        print(svg_path)
        if converter:
            png_path = svg_path.with_suffix(".png")
            subprocess.run([converter, str(svg_path), "-o", str(png_path)], check=True)
            print(png_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
