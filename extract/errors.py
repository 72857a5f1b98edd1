"""Errors that end a sync with a one-line cause and its fix; their text never contains the API key."""

from __future__ import annotations


class AcuityError(RuntimeError):
    """A failure the user can act on; ``str()`` is the one line we print."""


class AcuityAuthError(AcuityError):
    """401/403: wrong user id or API key, or the key lacks API access."""


class AcuityNotFoundError(AcuityError):
    """404 on a list endpoint: the base URL is wrong."""


class AcuityResponseError(AcuityError):
    """The server answered something that is not the JSON list we asked for."""


class AcuityAccountMismatchError(AcuityError):
    """The credentials reach another Acuity account than the one a tenant's history in the warehouse belongs to."""
