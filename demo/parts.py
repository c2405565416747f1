"""The tour's parts, in order: name -> module under ``demo`` (imported lazily)."""

import importlib

PARTS = {
    "tabular": "demo.tabular",
    "images": "demo.images",
    "detection": "demo.detection",
    "segmentation": "demo.segmentation",
    "faces": "demo.faces",
    "sentiment": "demo.sentiment",
    "language_model": "demo.language_model",
    "word_embeddings": "demo.word_embeddings",
}


class Skipped(Exception):
    """A part cannot run here (its data is absent); the message says why."""


def check_tasks(names) -> list[str]:
    """The parts to run: all of them for none/"all", else the names given.

    Parameters
    ----------
    names : sequence of str
        Part names; each may also be a comma-separated list.

    Returns
    -------
    list of str
        Valid part names, in the tour's order, without repeats.

    Raises
    ------
    ValueError
        For a name that is not a part, listing the valid ones.
    """
    wanted = [n.strip() for name in names for n in name.split(",") if n.strip()]
    if not wanted or wanted == ["all"]:
        return list(PARTS)
    unknown = [n for n in wanted if n not in PARTS]
    if unknown:
        raise ValueError(
            f"TASK must be one or more of {', '.join(PARTS)} (or all). "
            f"Received: TASK={','.join(unknown)!r}"
        )
    return [name for name in PARTS if name in wanted]


def load(name: str):
    """The module of part ``name`` (it has ``TITLE`` and ``run(folder)``)."""
    return importlib.import_module(PARTS[name])
