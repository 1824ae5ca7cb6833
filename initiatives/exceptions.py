"""Errors the services raise. Views turn them into form errors, messages or 4xx responses.

Field-level problems are Django's ValidationError; these are the others.
"""


class ServiceError(Exception):
    """A rule refused the change. `code` is stable for API clients."""

    code = "refused"
    status = 400

    def __init__(self, message: str, *, current=None):
        super().__init__(message)
        self.message = message
        # For conflicts: the row as it is now, so the caller can show it.
        self.current = current


class InvalidState(ServiceError):
    """The object is not in a state that allows this (e.g. voting on an open gate)."""

    code = "invalid_state"
    status = 409


class StaleEdit(ServiceError):
    """Somebody changed the object since the caller read it."""

    code = "stale_edit"
    status = 409


class AlreadyDecided(InvalidState):
    code = "already_decided"
