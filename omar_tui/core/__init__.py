"""The core of omar-tui: checks, the OMAR-Online client, settings and history.

Nothing under this package imports textual: the headless CLI, cron jobs and the
simulator run on it alone, and a test keeps it that way.
"""
