"""User-facing errors.

Every problem a user can cause (unknown name, wrong shape or dtype, NaN in data, a
missing file) is raised as a `KerasGenError` whose message names the problem in one
line. The CLI prints that line and exits non-zero; library users can catch the class.
"""


class KerasGenError(ValueError):
    """A problem with the user's input, named in one line."""


class UnknownNameError(KerasGenError, KeyError):
    """A dataset, reproduction, model or strategy name that does not exist."""

    def __str__(self):  # KeyError would quote the message; keep it a plain line.
        return str(self.args[0]) if self.args else ""


class MissingFileError(KerasGenError, FileNotFoundError):
    """A file or folder the user named does not exist."""


class NothingToDo(Exception):
    """This process has no part in the run (a worker of a cluster whose reproduction runs
    on the chief alone); the message says so in one line. The CLI prints it and exits 0."""


def unknown_name(kind, name, choices):
    """Builds an `UnknownNameError` listing the valid choices."""
    return UnknownNameError(
        f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(choices))}"
    )
