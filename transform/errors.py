"""Errors the runner raises for its own problems (locks, targets, missing files), apart from Acuity's.

``str()`` of each is the one line the command line prints; none carries a secret.
"""

from __future__ import annotations


class PipelineError(RuntimeError):
    """A failure of the run itself that the user can act on: another run holds the lock, a missing warehouse, …"""
