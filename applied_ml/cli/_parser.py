"""The command line's grammar: commands, their options, and their help."""

import argparse
import re

from applied_ml.cli import _model_commands as model_commands
from applied_ml.cli import _train
from applied_ml.cli._launch import add_launch
from applied_ml.cli._params import describe, did_you_mean, parameters
from applied_ml.cli._readers import TEXT_UNITS
from applied_ml.cli._tasks import TASKS


class _Parser(argparse.ArgumentParser):
    """argparse with did-you-mean hints for misspelled commands and options."""

    task = None  # a task's parser knows its estimator

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}{self._hint(message)}\n")

    def _hint(self, message: str) -> str:
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            valid = re.findall(r"'([^']*)'", choice.group(2))
            return did_you_mean(choice.group(1), valid)
        unknown = re.search(r"unrecognized arguments: (\S+)", message)
        if not unknown:
            return ""
        option = unknown.group(1)
        name = option.lstrip("-").replace("-", "_")
        tasks = [self.task] if self.task is not None else TASKS.values()
        if any(name in parameters(task.cls) for task in tasks):
            return f" {name!r} is a parameter: set it with --set {name}=VALUE."
        options = [o for a in self._actions for o in a.option_strings]
        return did_you_mean(option, options)


class _TaskParser(_Parser):
    """A task's parser: its help ends with the estimator's parameters."""

    def format_help(self) -> str:
        params = describe(parameters(self.task.cls))
        self.epilog = (
            f"parameters of {self.task.estimator} (set with --set NAME=VALUE or in "
            f"the config file's [params]; default shown):\n{params}"
        )
        return super().format_help()


# The command's own options are kept apart from its TASK's (argparse would
# let the TASK parser's values replace them): ``merge_levels`` joins them.
_OUTER = "outer_"


def _run_options(parser, *, search: bool, outer: bool = False) -> None:
    """Options of a run, shared by every task (absent ones stay unset)."""
    prefix = _OUTER if outer else ""

    def option(flag: str, help_: str, **kwargs) -> None:
        dest = prefix + flag.lstrip("-").replace("-", "_")
        parser.add_argument(
            flag, dest=dest, default=argparse.SUPPRESS, help=help_, **kwargs
        )

    option("--data", "the training data")
    option("--target", "the label column of a table")
    option("--text-column", "the text column of a table (default: text)")
    option(
        "--unit",
        "one text per line, paragraph or file of text data (default: line)",
        choices=TEXT_UNITS,
    )
    option("--split", "the YOLO split --data is read from (default: train)")
    option("--test", "held-out data to evaluate on after training (YOLO: its val)")
    option("--set", "set an estimator parameter (repeatable)", action="append",
           metavar="NAME=VALUE")  # fmt: skip
    option("--config", "a TOML file of runs")
    option("--save", "write the model to this .keras file")
    option("--export", "write a SavedModel version under this folder")
    option("--json", "write the metrics as JSON (- for stdout)")
    option("--debug", "show tracebacks", action="store_true")
    parser.set_defaults(run=_train.tune if search else _train.train)


def merge_levels(args: argparse.Namespace) -> argparse.Namespace:
    """Options given before TASK joined with those after it (``--set`` adds)."""
    for outer in [k for k in vars(args) if k.startswith(_OUTER)]:
        name, value = outer[len(_OUTER) :], vars(args).pop(outer)
        if name == "set":
            setattr(args, name, value + getattr(args, name, []))
        elif getattr(args, name, None) is None:
            setattr(args, name, value)
    return args


def _add_run_command(
    commands, name: str, help_: str, verb: str, *, search: bool
) -> None:
    command = commands.add_parser(
        name,
        help=help_,
        description=f"{help_.capitalize()}. Give TASK and --data, or a config file "
        "(--config) that names them; TASK --help lists its parameters.",
    )
    _run_options(command, search=search, outer=True)
    tasks = command.add_subparsers(
        dest="task", metavar="TASK", parser_class=_TaskParser
    )
    for task in TASKS.values():
        sub = tasks.add_parser(
            task.name,
            help=f"{task.estimator}: --data is {task.data}",
            description=f"{verb} a {task.estimator}. --data is {task.data}.",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.task = task
        _run_options(sub, search=search)


def _model_options(parser, *, data: bool = True) -> None:
    parser.add_argument("model", help="a .keras file written by save()")
    if data:
        parser.add_argument("--data", "--csv", required=True, help="the data")
        parser.add_argument("--target", help="the label column of a table")
        parser.add_argument("--text-column", help="the text column of a table")
        parser.add_argument("--unit", choices=TEXT_UNITS)
        parser.add_argument("--split", help="the YOLO split to read (default: val)")
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``applied-ml`` parser, every command with its options."""
    parser = _Parser(
        prog="applied-ml",
        description="Train, tune, evaluate, predict with and export applied_ml "
        "models from files. Exit status: 0 success, 1 input error, 2 usage "
        "error, 3 internal error, 124 launch timeout, 130 interrupted.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    _add_run_command(commands, "train", "train a model", "Train", search=False)
    _add_run_command(
        commands, "tune", "search parameters", "Search the parameters of", search=True
    )

    evaluate = commands.add_parser("evaluate", help="score a model on held-out data")
    _model_options(evaluate)
    evaluate.add_argument(
        "--json", help="also write the metrics as JSON (- for stdout)"
    )
    evaluate.set_defaults(run=model_commands.evaluate)

    predict = commands.add_parser(
        "predict", help="predict from files with a .keras file or a SavedModel"
    )
    _model_options(predict)
    predict.add_argument(
        "--output", help="CSV file (a folder for masks); default stdout"
    )
    predict.set_defaults(run=model_commands.predict)

    export = commands.add_parser("export", help="write a .keras model as a SavedModel")
    _model_options(export, data=False)
    export.add_argument("path", help="the SavedModel folder (versions inside)")
    export.add_argument("--version", type=int, help="version number (default: next)")
    export.set_defaults(run=model_commands.export)

    info = commands.add_parser("info", help="describe a .keras model or a SavedModel")
    _model_options(info, data=False)
    info.set_defaults(run=model_commands.info)

    sample = commands.add_parser("sample", help="generate texts with a language model")
    _model_options(sample, data=False)
    sample.add_argument("-n", type=int, default=3, help="how many texts (default 3)")
    sample.add_argument("--seed-text", default="", help="the start of every text")
    sample.add_argument("--max-length", type=int, default=200, help="most tokens")
    sample.add_argument("--temperature", type=float, default=1.0, help="0 is greedy")
    sample.add_argument("--top-k", type=int, help="keep the k most probable tokens")
    sample.add_argument("--top-p", type=float, help="keep tokens covering this mass")
    sample.add_argument("--random-state", type=int, help="seed of the draws")
    sample.add_argument(
        "--one-line", action="store_true", help="print each text on one line"
    )
    sample.set_defaults(run=model_commands.sample)

    add_launch(commands)
    return parser
