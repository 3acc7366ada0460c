"""The root of lienthong's error hierarchy.

Every error that reaches a user carries a one-line message that says what to fix; protocol edges (the CLI, the
SMTP handlers) translate these into exit codes or SMTP replies and never show a traceback.
"""

from __future__ import annotations


class LienthongError(Exception):
    """An error with a message meant for the person who can fix it."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(LienthongError):
    """The configuration file is missing, unreadable or invalid."""

    exit_code = 2


class NotFoundError(LienthongError):
    """A named object (agency, account, document) does not exist."""


class InputError(LienthongError):
    """Input given on the command line or in an imported file is invalid; the message names the field."""

    exit_code = 2
