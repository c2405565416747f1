"""The command's own error: one line on stderr, a documented exit status."""


class CommandError(Exception):
    """A user error, shown as one line on stderr without a traceback."""
