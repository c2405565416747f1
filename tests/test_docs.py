"""Public API docstrings are numpydoc and match the signatures."""

import ast
import inspect

import pytest
from numpydoc.validate import validate

import applied_ml
import applied_ml.cli
import applied_ml.datasets
import applied_ml.diagnose
import applied_ml.export
import applied_ml.metrics
import applied_ml.plots
import applied_ml.tabular
import applied_ml.text
import applied_ml.tuning
import applied_ml.vision
import applied_ml.vision.boxes

# Errors about signatures and sections: parameters missing from or unknown to
# the docstring, and missing Parameters/Returns sections.
CHECKED = {"PR01", "PR02", "PR03", "PR10", "RT01", "GL08", "SS01"}


def _public_api():
    modules = [
        applied_ml.tabular,
        applied_ml.datasets,
        applied_ml.diagnose,
        applied_ml.metrics,
        applied_ml.plots,
        applied_ml.export,
        applied_ml.tuning,
        applied_ml.cli,
        applied_ml.vision,
        applied_ml.vision.boxes,
        applied_ml.text,
    ]
    for module in modules:
        names = getattr(module, "__all__", None) or [
            n
            for n, obj in vars(module).items()
            if not n.startswith("_")
            and inspect.isfunction(obj)
            and obj.__module__ == module.__name__
        ]
        for name in names:
            obj = getattr(module, name)
            if not callable(obj):  # constants such as FASHION_MNIST_CLASSES
                continue
            yield f"{obj.__module__}.{obj.__qualname__}"
            if inspect.isclass(obj) and obj.__module__.startswith("applied_ml"):
                for meth in (
                    "fit",
                    "predict",
                    "predict_proba",
                    "evaluate",
                    "save",
                    "export",
                ):
                    if hasattr(obj, meth):
                        yield f"{obj.__module__}.{obj.__qualname__}.{meth}"


@pytest.mark.parametrize("path", sorted(set(_public_api())))
def test_docstring_matches_signature(path):
    errors = [(code, msg) for code, msg in validate(path)["errors"] if code in CHECKED]
    assert not errors, errors


def test_every_estimator_documents_every_init_parameter():
    for name in applied_ml.__all__:
        cls = getattr(applied_ml, name)
        documented = {
            line.split(" : ")[0].strip()
            for line in cls.__doc__.splitlines()
            if " : " in line
        }
        params = set(inspect.signature(cls).parameters)
        assert params <= documented, params - documented


def test_documented_defaults_match_the_signatures():
    for name in applied_ml.__all__:
        cls = getattr(applied_ml, name)
        params = inspect.signature(cls).parameters
        for line in cls.__doc__.splitlines():
            head, _, default = line.partition(", default=")
            param = head.split(" : ")[0].strip()
            if default and param in params:
                actual = params[param].default
                stated = ast.literal_eval(default.strip())
                assert stated == actual, (name, param, stated, actual)
