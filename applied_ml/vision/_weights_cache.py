"""How converted pretrained weights are written to the cache."""

import os


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
