"""Real tables: Palmer penguins and the statsmodels 'fair' survey."""

import importlib.resources

import pandas as pd


def _require(package: str, install: str):
    try:
        return __import__(package)
    except ImportError as err:
        raise ImportError(
            f"This dataset ships with the {package!r} package. Run `{install}` "
            "(or `pip install applied_ml[data]`)."
        ) from err


def load_penguins() -> tuple[pd.DataFrame, pd.Series]:
    """Palmer penguins: 344 birds, 7 raw columns (strings, numbers, missing).

    Read from the CSV inside the ``palmerpenguins`` package, with no network.

    Returns
    -------
    X : pandas.DataFrame
        Columns ``island``, ``bill_length_mm``, ``bill_depth_mm``,
        ``flipper_length_mm``, ``body_mass_g``, ``sex``, ``year``.
    y : pandas.Series
        ``species``: Adelie, Chinstrap or Gentoo.

    Examples
    --------
    >>> from applied_ml.datasets import load_penguins
    >>> X, y = load_penguins()
    >>> X.shape
    (344, 7)
    """
    _require("palmerpenguins", "pip install palmerpenguins")
    path = importlib.resources.files("palmerpenguins") / "data" / "penguins.csv"
    with path.open() as f:
        frame = pd.read_csv(f)
    return frame.drop(columns="species"), frame["species"]


def load_fair() -> tuple[pd.DataFrame, pd.Series]:
    """The 'fair' survey (statsmodels): 6,366 women, did they have an affair.

    Read from the data bundled with ``statsmodels``, with no network. The
    target is binary: whether ``affairs`` is above zero (32% are).

    Returns
    -------
    X : pandas.DataFrame
        Eight numeric survey columns (``rate_marriage``, ``age``, ``yrs_married``,
        ``children``, ``religious``, ``educ``, ``occupation``,
        ``occupation_husb``).
    y : pandas.Series
        ``had_affair``: 1 or 0.

    Examples
    --------
    >>> from applied_ml.datasets import load_fair
    >>> X, y = load_fair()  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (6366, 8)
    """
    _require("statsmodels", "pip install statsmodels")
    from statsmodels.datasets import fair

    frame = fair.load_pandas().data
    y = (frame.pop("affairs") > 0).astype(int).rename("had_affair")
    return frame, y
