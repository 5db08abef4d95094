"""The errors of ``omads-admin`` commands and the exit codes they mean."""

from __future__ import annotations

__all__ = ["EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "CommandError", "UsageProblem"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """The operation failed (exit code 1)."""


class UsageProblem(Exception):
    """Bad arguments or configuration (exit code 2)."""
