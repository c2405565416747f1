"""``applied-ml launch``: a multi-worker job or a distributed search here."""

import argparse

from applied_ml.cli._errors import CommandError


def _launch(args) -> int:
    from applied_ml.launch import launch, launch_search

    try:
        if args.tuners is not None:
            return launch_search(
                args.script, args.tuners, args.script_args, timeout=args.timeout
            )
        workers = 2 if args.workers is None else args.workers
        return launch(args.script, workers, args.script_args, timeout=args.timeout)
    except (ValueError, FileNotFoundError) as err:
        raise CommandError(str(err)) from None


def add_launch(commands) -> None:
    """The ``launch`` command and its options."""
    launch = commands.add_parser(
        "launch",
        help="run a script as a multi-worker job or distributed search here",
        description="Start N worker processes of SCRIPT on loopback ports, each "
        "with its own TF_CONFIG, as a cluster platform would; or, with --tuners, "
        "a keras-tuner chief and N tuner workers. The job stops when a process "
        "fails. Exit status: 0 when all succeed, the first failing process's "
        "status otherwise, 124 on --timeout.",
    )
    count = launch.add_mutually_exclusive_group()
    count.add_argument("--workers", type=int, help="worker processes (default 2)")
    count.add_argument("--tuners", type=int, help="tuner workers besides the chief")
    launch.add_argument("--timeout", type=float, help="stop the job after SECONDS")
    launch.add_argument("script", help="the Python script every worker runs")
    launch.add_argument(
        "script_args", nargs=argparse.REMAINDER, help="arguments for the script"
    )
    launch.set_defaults(run=_launch)
