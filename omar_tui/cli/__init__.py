"""The headless front end: ``omar-tui check``, ``submit``, ``history`` and friends.

Nothing on this path imports textual, so cron jobs start fast and run on
machines where the TUI never will.
"""
