"""The Textual front end. ``omar_tui.tui.app.run_tui`` opens it.

Nothing is imported here, so that ``import omar_tui.tui`` stays cheap.
"""
