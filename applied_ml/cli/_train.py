"""``applied-ml train`` and ``applied-ml tune``: runs from files to models."""

import os
import sys

from applied_ml.cli import _output as output
from applied_ml.cli._config import runs_of
from applied_ml.cli._errors import CommandError
from applied_ml.cli._params import (
    check_name,
    did_you_mean,
    parameters,
    parse_assignments,
    typed,
)
from applied_ml.cli._tasks import TASKS, ReadOptions, Task, held_out


def _task(run: dict) -> Task:
    name = run.get("task")
    if name is None:
        raise CommandError(
            f"A run needs a task: give TASK ({', '.join(TASKS)}) on the command "
            "line or `task` in the config file. Received: none"
        )
    if name not in TASKS:
        raise CommandError(
            f"`task` must be one of {list(TASKS)}.{did_you_mean(name, TASKS)} "
            f"Received: {name!r}"
        )
    return TASKS[name]


def _data(run: dict) -> str:
    if run.get("data") is None:
        raise CommandError(
            "A run needs its data: give --data PATH on the command line or `data` "
            "in the config file. Received: none"
        )
    return os.fspath(run["data"])


def _estimator(task: Task, run: dict, assignments: list[str]):
    params = parameters(task.cls)
    values = typed(run.get("params", {}), params, task.estimator)
    values.update(parse_assignments(assignments, params, task.estimator))
    # Keras' progress bar on a terminal, one line per epoch in a log
    values.setdefault("verbose", 1 if sys.stdout.isatty() else 2)
    return task.cls(**values)


def _train_one(run: dict, assignments: list[str], name: str, several: bool) -> dict:
    task = _task(run)
    data = _data(run)
    estimator = _estimator(task, run, assignments)
    if several and getattr(estimator, "log_dir", None) is not None:
        # runs sharing a log_dir would write over each other's steps
        estimator.set_params(log_dir=os.path.join(estimator.log_dir, name))
    options = ReadOptions.of(run)
    X, y = task.labelled(options, data, run.get("split", "train"))
    print(f"[{name}] {task.name}: {type(estimator).__name__} on {data}", flush=True)
    estimator.fit(X) if y is None else estimator.fit(X, y)
    results = {"training": output.last_epoch(getattr(estimator, "history_", {}))}
    output.print_table(f"[{name}] training (last epoch)", results["training"])
    if run.get("test") is not None:
        # --split names the training data's split; held-out YOLO data is "val"
        X_test, y_test = held_out(task, options, run["test"], "val")
        results["test"] = task.metrics(estimator, X_test, y_test)
        output.print_table(f"[{name}] held out: {run['test']}", results["test"])
    _keep(estimator, run)
    return results


def _keep(estimator, run: dict) -> None:
    if run.get("save") is not None:
        estimator.save(run["save"])
        print(f"saved {run['save']}")
    if run.get("export") is not None:
        print(f"exported {estimator.export(run['export'])}")


def _names(runs: list[dict]) -> list[str]:
    names = [str(r.get("name", f"run{i + 1}")) for i, r in enumerate(runs)]
    if len(set(names)) != len(names):
        raise CommandError(
            f"Runs of a config file need distinct names. Received: {names}"
        )
    return names


def train(args) -> int:
    """Train every run; print and write their metrics."""
    runs = runs_of(args)
    if len(runs) > 1:
        for key in ("save", "export", "json"):
            if getattr(args, key, None) is not None:
                raise CommandError(
                    f"`--{key}` names one file, but the config file holds "
                    f"{len(runs)} runs; set `{key}` per run in the config file. "
                    f"Received: --{key} {getattr(args, key)}"
                )
    results = {}
    for name, run in zip(_names(runs), runs, strict=True):
        results[name] = _train_one(
            run, getattr(args, "set", None) or [], name, len(runs) > 1
        )
        if run.get("json") is not None:
            output.write_json(results[name], run["json"])
    if len(runs) > 1:
        output.print_runs(
            {
                n: {
                    **r["training"],
                    **{f"test_{k}": v for k, v in r.get("test", {}).items()},
                }
                for n, r in results.items()
            }
        )
    return 0


def _space(space: dict, params: dict, estimator: str) -> dict:
    """The config file's ``[space]``: each parameter's candidate values."""
    candidates = {}
    for name, values in space.items():
        param = check_name(name, params, estimator)
        if not isinstance(values, list) or not values:
            raise CommandError(
                f"`space.{name}` must be a non-empty array of candidate values. "
                f"Received: {values!r}"
            )
        candidates[name] = [param.convert(v) for v in values]
    return candidates


def tune(args) -> int:
    """Search parameters with TunerSearch, as the config file says."""
    from applied_ml.tuning import TunerSearch

    runs = runs_of(args, search=True)
    if len(runs) != 1:
        raise CommandError(
            f"`tune` takes a config file with one search. Received: {len(runs)} runs"
        )
    run = runs[0]
    if not run.get("space"):
        raise CommandError(
            "`tune` needs the parameters to search: a [space] table in the config "
            "file, such as learning_rate = [0.001, 0.01]. Received: none"
        )
    task = _task(run)
    estimator = _estimator(task, {**run, "params": {"verbose": 0, **run["params"]}},
                           getattr(args, "set", None) or [])  # fmt: skip
    space = _space(run["space"], parameters(task.cls), task.estimator)
    settings = typed(run.get("search", {}), parameters(TunerSearch), "TunerSearch")
    search = TunerSearch(estimator, space, **settings)
    X, y = task.labelled(ReadOptions.of(run), _data(run), run.get("split", "train"))
    search.fit(X) if y is None else search.fit(X, y)
    output.print_runs(
        {
            f"trial {t['trial_id']}": {**t["params"], "score": t["score"]}
            for t in search.trials_
        }
    )
    results = {"best_params": search.best_params_, "best_score": search.best_score_}
    output.print_table("best", {"score": search.best_score_, **search.best_params_})
    if run.get("test") is not None:
        X_test, y_test = held_out(task, ReadOptions.of(run), run["test"], "val")
        results["test"] = task.metrics(search.best_estimator_, X_test, y_test)
        output.print_table(f"held out: {run['test']}", results["test"])
    _keep(search.best_estimator_, run)
    if run.get("json") is not None:
        output.write_json(results, run["json"])
    return 0
