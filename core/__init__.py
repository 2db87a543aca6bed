"""exptui's domain library: DVC experiments, their refs, data and remotes, with no UI.

Nothing here imports Textual, prints or exits: functions return values, raise
:class:`core.errors.ExptuiError` subclasses carrying a message and a hint, and report
progress through a board the UI polls.
"""
