"""The verbs exptui performs, one enum for every layer that needs to know which one runs.

A ``str`` enum: its value is the command's name, so JSON output and comparisons with what
the user typed stay plain strings, while code asks the member what it means (which way
data flows, how to say it) instead of comparing text in many places.
"""

from __future__ import annotations

from enum import Enum


class Operation(str, Enum):
    PUSH = "push"
    PULL = "pull"
    REMOVE = "remove"
    RENAME = "rename"
    APPLY = "apply"
    BRANCH = "branch"

    @property
    def uploads(self) -> bool:
        """Data and refs go from here to the remote (only a push does)."""
        return self is Operation.PUSH

    @property
    def past(self) -> str:
        """``Pushed``, ``Pulled``, ``Removed``, ...: the headline of a result."""
        return {"apply": "Applied", "branch": "Branched"}.get(
            self.value, self.value.capitalize() + ("d" if self.value.endswith("e") else "ed")
        )

    @property
    def moved(self) -> str:
        """What happened to the data: ``uploaded`` on a push, ``downloaded`` otherwise."""
        return "uploaded" if self.uploads else "downloaded"

    @property
    def toward(self) -> str:
        """The preposition before the remote: push *to*, pull *from*."""
        return "to" if self.uploads else "from"

    @property
    def replaced_side(self) -> str:
        """Which copy a forced update replaces: the remote's on a push, the local one else."""
        return "remote" if self.uploads else "local"

    def __str__(self) -> str:
        return self.value
