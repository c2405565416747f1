"""Search spaces of ``TunerSearch``: keras-tuner values, or scipy distributions.

A space is a dict of candidate lists, or a function of a keras-tuner
``HyperParameters`` returning estimator parameters. The same space gives one
trial's parameters to keras-tuner and, through :func:`to_distributions`,
the ``param_distributions`` of scikit-learn's ``RandomizedSearchCV``.
"""

import keras_tuner
from scipy import stats


def declare(space, hp) -> dict:
    """Parameter values for one trial: a dict of choice lists, or a callable."""
    if callable(space):
        return dict(space(hp))
    params = {}
    for name, choices in space.items():
        # keras-tuner choices must share one scalar type: offer each candidate
        # by its repr (unique, categorical) and map the pick back.
        labels = [repr(c) for c in choices]
        params[name] = choices[labels.index(hp.Choice(name, labels))]
    return params


def to_distributions(space, n_checks: int = 5) -> dict:
    """``space`` as ``param_distributions`` for ``RandomizedSearchCV``.

    A dict of candidate lists is returned as it is. For a callable, every
    returned parameter must be one hyperparameter's value as it is
    (``{"learning_rate": hp.Float("lr", 1e-3, 1e-1, sampling="log")}``), and
    it gets that hyperparameter's distribution: the list of a ``Choice`` or
    ``Boolean``, the range of an ``Int`` (every ``step``-th value, drawn
    uniformly whatever its sampling), or a
    uniform or log-uniform ``Float`` (``scipy.stats``), or the value of a
    ``Fixed``.

    Parameters
    ----------
    space : dict or callable
        A ``TunerSearch`` space.
    n_checks : int, default=5
        Random draws of the hyperparameters used to tell which one each
        parameter returns.

    Returns
    -------
    dict
        Parameter name to a list of values or a frozen ``scipy.stats``
        distribution.

    Raises
    ------
    ValueError
        When a parameter is computed from hyperparameters (such as
        ``(hp.Int("units", 8, 64),)``) rather than being one of them.

    Examples
    --------
    >>> from applied_ml.tuning import to_distributions
    >>> to_distributions(lambda hp: {"epochs": hp.Int("epochs", 5, 20, step=5)})
    {'epochs': [5, 10, 15, 20]}
    """
    if not callable(space):
        return {name: list(choices) for name, choices in space.items()}
    hps = keras_tuner.HyperParameters()
    params = declare(space, hps)
    candidates = {name: set(hps.values) for name in params}
    for seed in range(n_checks):
        drawn = keras_tuner.HyperParameters()
        declare(space, drawn)
        for hp in drawn.space:
            drawn.values[hp.name] = hp.random_sample(seed)
        for name, value in declare(space, drawn).items():
            candidates[name] = {
                h for h in candidates[name] if _same(drawn.values[h], value)
            }
    distributions = {}
    for name, found in candidates.items():
        if len(found) != 1:
            raise ValueError(
                f"`space` computes the parameter {name!r} from its hyperparameters "
                f"instead of returning one of them as it is, so it has no "
                f"distribution of its own: return the hyperparameter itself, or "
                f"write the space as a dict of candidate lists. Received: "
                f"{name}={params[name]!r}"
            )
        (hp_name,) = found
        distributions[name] = _distribution(
            next(hp for hp in hps.space if hp.name == hp_name)
        )
    return distributions


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def _distribution(hp):
    kind = type(hp).__name__
    if kind == "Choice":
        return list(hp.values)
    if kind == "Boolean":
        return [False, True]
    if kind == "Fixed":
        return [hp.value]
    if kind == "Int":
        return list(range(hp.min_value, hp.max_value + 1, hp.step or 1))
    if kind == "Float":
        if hp.step:
            n = int(round((hp.max_value - hp.min_value) / hp.step))
            return [hp.min_value + i * hp.step for i in range(n + 1)]
        if hp.sampling == "log":
            return stats.loguniform(hp.min_value, hp.max_value)
        return stats.uniform(hp.min_value, hp.max_value - hp.min_value)
    raise ValueError(
        f"`space` uses a hyperparameter of a kind with no distribution here. "
        f"Received: {kind} {hp.name!r}"
    )
