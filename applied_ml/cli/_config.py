"""Runs from a TOML config file and the command line.

A config file holds one run, or several under ``[[runs]]``. Keys at the top
apply to every run and a run's own keys override them; ``params`` tables
merge. The command line's options override both, and its ``--set`` values
override ``params``::

    task = "tabular-classifier"
    data = "penguins.csv"
    target = "species"

    [params]
    epochs = 30

    [[runs]]
    name = "linear"
    params = { model = "linear" }

    [[runs]]
    name = "deep"
    params = { hidden_units = [64, 32], dropout = 0.1 }
"""

import tomllib

from applied_ml.cli._errors import CommandError
from applied_ml.cli._params import did_you_mean

# What a run may set, besides ``params`` (the estimator's parameters).
RUN_KEYS = (
    "name",
    "task",
    "data",
    "target",
    "text_column",
    "unit",
    "split",
    "test",
    "save",
    "export",
    "json",
    "params",
)
# A search adds the TunerSearch parameters and the space searched.
SEARCH_KEYS = ("search", "space")


def read_config(path: str, *, search: bool = False) -> list[dict]:
    """The runs of a config file, each a dict of ``RUN_KEYS``."""
    try:
        with open(path, "rb") as f:
            config = tomllib.load(f)
    except FileNotFoundError:
        raise CommandError(
            f"`--config` must be a TOML file. Received: {path!r}, which does not exist."
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise CommandError(f"Cannot read the config file {path!r}: {err}") from err
    runs = config.pop("runs", [{}])
    if (
        not isinstance(runs, list)
        or not runs
        or not all(isinstance(r, dict) for r in runs)
    ):
        raise CommandError(
            f"`runs` in {path!r} must be a non-empty array of tables ([[runs]]). "
            f"Received: {runs!r}"
        )
    keys = RUN_KEYS + SEARCH_KEYS if search else RUN_KEYS
    merged = []
    for i, run in enumerate(runs):
        for where, table in (("the top level", config), (f"run {i + 1}", run)):
            for key in table:
                if key not in keys:
                    raise CommandError(
                        f"{path!r} has the unknown key {key!r} in {where}."
                        f"{did_you_mean(key, keys)} Valid keys: {list(keys)}. "
                        f"Received: {key}"
                    )
        merged.append(_merge(config, run, path))
    return merged


def _merge(shared: dict, run: dict, path: str) -> dict:
    merged = {**shared, **run}
    for table in ("params", "search", "space"):
        parts = [shared.get(table, {}), run.get(table, {})]
        for part in parts:
            if not isinstance(part, dict):
                raise CommandError(
                    f"`{table}` in {path!r} must be a table of name = value. "
                    f"Received: {part!r}"
                )
        merged[table] = {**parts[0], **parts[1]}
    return merged


def command_line_run(args, keys=RUN_KEYS) -> dict:
    """The run options given on the command line (absent ones left out)."""
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def runs_of(args, *, search: bool = False) -> list[dict]:
    """Every run to do: the config file's, overridden by the command line."""
    config = getattr(args, "config", None)
    runs = read_config(config, search=search) if config else [{}]
    given = command_line_run(args)
    return [{**run, **given, "params": run.get("params", {})} for run in runs]
