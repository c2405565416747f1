"""``applied-ml``: train, tune, evaluate, predict, export and inspect models.

Every task estimator trains from files on disk (``applied-ml train TASK
--data PATH``), with any constructor parameter set by ``--set name=value`` or
in a TOML config file; ``applied-ml train TASK --help`` lists the parameters,
read from the estimator's signature and docstring.

Exit status: 0 on success, 1 for an error in the input (data, parameters,
files; one line on stderr), 2 for a command-line usage error, 3 for an
unexpected internal error (one line; ``--debug`` shows the traceback), 124
when ``launch --timeout`` stops a job, 130 when interrupted.
"""

import sys
import traceback

from applied_ml.cli._errors import CommandError
from applied_ml.cli._parser import build_parser, merge_levels

__all__ = ["main"]

USAGE_ERROR, INPUT_ERROR, INTERNAL_ERROR, INTERRUPTED = 2, 1, 3, 130


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    """Run the ``applied-ml`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (defaults to ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 success, 1 input error, 2 usage error, 3 internal
        error, 124 a ``launch`` timeout, 130 interrupted.
    """
    parser = build_parser()
    args = merge_levels(parser.parse_args(argv))
    debug = getattr(args, "debug", False)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except (CommandError, ValueError, TypeError, OSError) as err:
        # the package's own errors say what was expected and what was received
        if debug:
            traceback.print_exc()
        print(f"{parser.prog}: error: {_one_line(err)}", file=sys.stderr)
        return INPUT_ERROR
    except Exception as err:  # noqa: BLE001 - the one place that reports all
        if debug:
            traceback.print_exc()
        print(
            f"{parser.prog}: internal error: {type(err).__name__}: {_one_line(err)} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR
