"""Every way a `tfexam` command can fail, each with its exit code and a sentence that says what to
do. `main` prints the sentence and exits with the code; no command lets a traceback through.

Exit codes (documented in `tfexam --help` and the README), one rule: 2 means the command line
itself is wrong, and running it again unchanged can never work; 1 means it was well formed but
cannot be done now, as the exam stands.
0 ok · 1 the service could not do it (data missing, still grading, nothing saved to submit, the
exam is over, the folder is not empty, a finish not confirmed) · 2 usage (bad arguments or
settings: an unknown exam, question or option, a value out of range, a bad TFEXAM_URL) · 3 no
such session · 4 the service is unreachable (not running, another program on the port, token
refused).
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


# What the service answers when the request itself names something wrong or malformed (an
# unknown exam or question, a value out of range): the command line is at fault, exit 2. Every
# other refusal (409 "nothing saved" or "exam over", 503 data missing, 507 disk full) is about the
# exam as it stands: exit 1.
USAGE_STATUSES = frozenset({400, 404, 405, 413, 414, 422})


class ApiError(CliError):
    """The service answered with an error; the message is its sentence (see USAGE_STATUSES for
    which are the caller's to fix)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.exit_code = EXIT_USAGE if status in USAGE_STATUSES else EXIT_FAILED
