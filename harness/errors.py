"""Errors the harness reports to people as one line, never as a traceback, and the exit
codes of the `harness` command.

| code | meaning |
| ---- | ------- |
| 0    | ok: every gate held |
| 1    | a gate failed (or a check found a regression) |
| 2    | bad input: the message names the file, key or option and what is allowed |
| 3    | harness error: the machinery failed (a lost worker, a broken pool, an unexpected
         exception, a live run whose infrastructure failed); any result is partial |
| 130  | interrupted (Ctrl-C or SIGTERM); any result is partial |
"""

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_HARNESS_ERROR = 3
EXIT_INTERRUPTED = 130


class BadInput(Exception):
    """Input a person can fix: the message names the file, key or option and what is allowed."""


class HarnessError(Exception):
    """The machinery failed, not the system under test: a worker was lost twice, a pool
    broke, a cluster went away. Reported apart from a failed gate (exit code 3)."""
