"""Errors the harness reports to people as one line (exit code 2), never as a traceback."""


class BadInput(Exception):
    """Input a person can fix: the message names the file, key or option and what is allowed."""
