"""Widgets of the main screen: pending files, checks panel, upload log, header."""
