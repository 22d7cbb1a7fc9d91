"""Every way a `tfexam` command can fail, each with its exit code and a sentence that says what to
do. `main` prints the sentence and exits with the code; no command lets a traceback through.

Exit codes (documented in `tfexam --help` and the README):
0 ok · 1 the service could not do it (for example data missing, still grading, not ready) ·
2 usage (bad arguments, or a request the service refused as invalid) · 3 no such session ·
4 the service is unreachable (not running, another program on the port, token refused).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_SESSION = 3
EXIT_UNREACHABLE = 4


class CliError(Exception):
    """A failure the learner can act on; the message is one sentence saying what to do."""

    exit_code = EXIT_FAILED


class UsageError(CliError):
    """Bad arguments, or a request the service refused as invalid (4xx)."""

    exit_code = EXIT_USAGE


class NoSuchSession(CliError):
    """No session was named, found in the project folder, or running; or the service has none
    by that id."""

    exit_code = EXIT_NO_SESSION


class ServiceUnreachable(CliError):
    """Nothing that is tfexam answers at the address: not running, or not reachable."""

    exit_code = EXIT_UNREACHABLE


class NotTfexam(ServiceUnreachable):
    """Another program answers at the address."""


class TokenRefused(ServiceUnreachable):
    """tfexam answers but refuses this client's token (contract 1)."""


class ApiError(CliError):
    """The service answered with an error; the message is its sentence. 4xx is the caller's
    to fix (exit 2), 5xx and 503 (data unavailable) are the service's (exit 1)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.exit_code = EXIT_USAGE if 400 <= status < 500 else EXIT_FAILED
