"""Where applied_ml caches files it makes or fetches once (weights, data)."""

import os

CACHE_ENV = "APPLIED_ML_CACHE"


def cache_dir() -> str:
    """Directory for cached files: converted weights, word-benchmark files.

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
