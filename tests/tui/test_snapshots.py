"""Snapshot tests: every screen at 80x24, on the demo's fixed sample data.

The scenes are the ones ``scripts/screenshots.py`` renders for the README
(``omar_tui.tui.scenes``). Baselines live in ``__snapshots__/``; after an
intended change of looks, review the diff report and run
``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from typing import Any

import pytest

from omar_tui.tui.scenes import SCENES, SIZE, Scene, scene_app


@pytest.mark.parametrize("scene", SCENES, ids=[s.name for s in SCENES])
def test_screen_looks(scene: Scene, snap_compare: Any) -> None:
    with scene_app(scene) as app:
        assert snap_compare(app, run_before=scene.drive, terminal_size=SIZE)
