"""The "what to try next" recipe: actions for each dominant problem."""

AVOIDABLE_BIAS = "avoidable_bias"
VARIANCE = "variance"
DATA_MISMATCH = "data_mismatch"
NONE = "none"

TITLES = {
    AVOIDABLE_BIAS: "avoidable bias",
    VARIANCE: "variance",
    DATA_MISMATCH: "data mismatch",
    NONE: "none",
}

HEADLINES = {
    AVOIDABLE_BIAS: (
        "High avoidable bias: the model does not fit its own training data as "
        "well as humans do. Reduce bias first."
    ),
    VARIANCE: (
        "High variance: the model does much better on its training data than on "
        "new data from the same distribution. Reduce overfitting."
    ),
    DATA_MISMATCH: (
        "Data mismatch: the model generalizes within the training distribution "
        "but the dev set comes from a different one. Make the training data "
        "look like the dev data."
    ),
    NONE: (
        "All gaps are small: the model is close to human-level on training data, "
        "generalizes, and the dev set matches the training distribution. Check "
        "the test set and the metric itself (is it what you care about?)."
    ),
}

ACTIONS = {
    AVOIDABLE_BIAS: (
        "Train a bigger model (more layers or units).",
        "Train longer (more epochs), or until the training loss stops falling.",
        "Use a better optimizer (Adam, momentum, RMSprop) and tune the learning "
        "rate (see lr_find).",
        "Try a different architecture or better features; remove regularization "
        "that is too strong.",
    ),
    VARIANCE: (
        "Get more training data (or augment it).",
        "Add regularization: dropout, L2 weight decay.",
        "Use early stopping on a validation split.",
        "Try a smaller model or a different architecture.",
    ),
    DATA_MISMATCH: (
        "Do manual error analysis to see how training and dev data differ.",
        "Collect more training data like the dev set, or put part of the dev-like "
        "data into training.",
        "Synthesize data like the dev set (artificial data synthesis), and use "
        "augmentation that matches the dev conditions (noise, lighting, style).",
    ),
    NONE: (
        "Evaluate on the test set, and check that the dev/test metric still ranks "
        "models the way users would.",
    ),
}


def gaps(bias: float, variance: float, mismatch: float | None) -> dict:
    """The gaps by problem name (data mismatch left out when not measured)."""
    named = {AVOIDABLE_BIAS: bias, VARIANCE: variance}
    if mismatch is not None:
        named[DATA_MISMATCH] = mismatch
    return named
