"""Where converted pretrained weights are cached, and how they are written."""

import os

CACHE_ENV = "APPLIED_ML_CACHE"


def cache_dir() -> str:
    """Directory for converted weights.

    ``$APPLIED_ML_CACHE`` if set, else ``$XDG_CACHE_HOME/applied_ml``, else
    ``~/.cache/applied_ml``.

    Returns
    -------
    str
        The directory (not created here).
    """
    if os.environ.get(CACHE_ENV):
        return os.path.expanduser(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return os.path.join(os.path.expanduser(base), "applied_ml")


def save_weights_atomically(model, path: str) -> str:
    """Write ``model``'s weights to ``path`` (a ``.weights.h5``) in one step.

    The weights go to a temporary file that is then renamed, so a concurrent
    or killed conversion never leaves a truncated cache behind.

    Parameters
    ----------
    model : keras.Model
        The model whose weights to write.
    path : str
        The ``.weights.h5`` file; its folder is created when missing.

    Returns
    -------
    str
        ``path``.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path[: -len('.weights.h5')]}.{os.getpid()}.tmp.weights.h5"
    try:
        model.save_weights(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
