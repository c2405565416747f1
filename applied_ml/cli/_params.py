"""Estimator parameters for the command line, read from the class itself.

Names and defaults come from the constructor's signature; types and help text
from the numpydoc ``Parameters`` section of the class docstring (the one the
docs test keeps in step with the signature). Nothing is listed by hand.
"""

import ast
import dataclasses
import difflib
import importlib
import inspect
import re
import textwrap

from applied_ml.cli._errors import CommandError

# Parameters that hold Python objects are given as a list of tables, each
# naming its class by ``kind`` and holding its arguments: [{kind = "numeric",
# name = "age"}] is NumericFeature(name="age"). Docstring type -> (module of
# the classes, suffix of their names).
OBJECT_TYPES = {
    "feature specs": ("applied_ml.tabular", "Feature"),
    "keras.callbacks.Callback": ("keras.callbacks", ""),
}


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One constructor parameter: its name, numpydoc type, default and help."""

    name: str
    type: str
    default: object
    help: str

    @property
    def objects(self) -> tuple[str, str] | None:
        """(module, class-name suffix) when the parameter holds objects."""
        return next((v for t, v in OBJECT_TYPES.items() if t in self.type), None)

    def parse(self, text: str) -> object:
        """The value a command-line text stands for, typed by the docstring."""
        return self.convert(_literal(text, self.type))

    def convert(self, value: object) -> object:
        """TOML values as documented: arrays to tuples, ints to floats, and
        the text "none" to None (TOML has no null) where None is allowed."""
        if isinstance(value, str) and value.lower() in ("none", "null"):
            return _literal(value, self.type)
        if self.objects is not None and value is not None:
            return self._build(value)
        if isinstance(value, list) and "tuple" in self.type:
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        elif self.type.startswith("tuple") and isinstance(value, int | float | str):
            value = (value,)  # hidden_units=64, augmentation=flip
        if (
            self.type.startswith("float")
            and isinstance(value, int)
            and not isinstance(value, bool)
        ):
            value = float(value)
        return value

    def _build(self, specs) -> tuple:
        """Objects from tables that name their class by ``kind``."""
        module_name, suffix = self.objects
        example = '[{kind = "...", ...}]'
        if not isinstance(specs, list | tuple) or not all(
            isinstance(s, dict) and "kind" in s for s in specs
        ):
            raise CommandError(
                f"`{self.name}` takes a list of tables, each naming its class by "
                f"`kind`, such as {example}. Received: {specs!r}"
            )
        module = importlib.import_module(module_name)
        built = []
        for spec in specs:
            kind = str(spec["kind"])
            name = kind[:1].upper() + kind[1:] + suffix  # "numeric" -> NumericFeature
            cls = getattr(module, name, None)
            if not isinstance(cls, type):
                valid = [  # as written: "numeric" for NumericFeature
                    n[:1].lower() + n[1 : len(n) - len(suffix)] if suffix else n
                    for n in dir(module)
                    if n.endswith(suffix) and n != suffix
                ]
                raise CommandError(
                    f"`{self.name}` has an unknown kind {kind!r}."
                    f"{did_you_mean(kind, valid)} Received: {spec!r}"
                )
            arguments = {
                k: tuple(v) if isinstance(v, list) else v
                for k, v in spec.items()
                if k != "kind"
            }
            built.append(cls(**arguments))
        return tuple(built)


def _literal(text: str, type_: str) -> object:
    lowered = text.strip().lower()
    if lowered in ("none", "null") and ("None" in type_ or "optional" in type_):
        return None
    if type_.startswith("bool") and lowered in (
        "true",
        "yes",
        "on",
        "false",
        "no",
        "off",
    ):
        return lowered in ("true", "yes", "on")
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    if "tuple" in type_ and "," in text:  # "64,32" or "flip,rotation"
        return tuple(_literal(part.strip(), "") for part in text.split(","))
    return text


def _sections(doc: str) -> dict[str, list[str]]:
    """The lines of each numpydoc section (dedented), by section title."""
    lines = inspect.cleandoc(doc or "").splitlines()
    sections, title = {}, None
    for i, line in enumerate(lines):
        underline = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and re.fullmatch(r"-{3,}", underline.strip()):
            title = line.strip()
            sections[title] = []
        elif title is not None and not re.fullmatch(r"-{3,}", line.strip()):
            sections[title].append(line)
    return sections


def _documented(cls: type) -> dict[str, tuple[str, str]]:
    """Parameter name -> (type, description) from the class docstring."""
    found: dict[str, tuple[str, list[str]]] = {}
    name = None
    for line in _sections(cls.__doc__).get("Parameters", []):
        header = re.fullmatch(r"(\w+) : (.+)", line)
        if header:
            name = header.group(1)
            found[name] = (header.group(2).strip(), [])
        elif name is not None and line.strip():
            found[name][1].append(line.strip())
        elif name is not None and found[name][1]:
            found[name][1].append("")  # keep paragraph breaks
    return {n: (t, " ".join(d).split("  ")[0]) for n, (t, d) in found.items()}


def parameters(cls: type) -> dict[str, Parameter]:
    """Every constructor parameter of ``cls``, in signature order."""
    documented = _documented(cls)
    result = {}
    for name, param in inspect.signature(cls).parameters.items():
        type_, text = documented.get(name, ("", ""))
        default = None if param.default is inspect.Parameter.empty else param.default
        result[name] = Parameter(name, type_, default, text)
    return result


def did_you_mean(name: str, valid) -> str:
    """`` Did you mean 'x'?`` for the closest valid name, or nothing."""
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_name(name: str, params: dict[str, Parameter], estimator: str) -> Parameter:
    """The parameter ``name`` of ``estimator``, or an error suggesting one."""
    if name not in params:
        raise CommandError(
            f"{estimator} has no parameter {name!r}.{did_you_mean(name, params)} "
            f"Run with --help to list them. Received: {name}"
        )
    return params[name]


def parse_assignments(
    texts: list[str], params: dict[str, Parameter], estimator: str
) -> dict:
    """``["epochs=5", "hidden_units=64,32"]`` -> typed parameter values."""
    values = {}
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise CommandError(
                f"`--set` takes NAME=VALUE (such as epochs=5). Received: {text!r}"
            )
        param = check_name(name.strip().replace("-", "_"), params, estimator)
        values[param.name] = param.parse(value.strip())
    return values


def typed(values: dict, params: dict[str, Parameter], estimator: str) -> dict:
    """Config-file values checked by name and converted as documented."""
    return {
        name: check_name(name, params, estimator).convert(value)
        for name, value in values.items()
    }


def describe(params: dict[str, Parameter]) -> str:
    """The parameters as help text: name, type, default, first sentence."""
    lines = []
    for p in params.values():
        default = "None" if p.default is None else repr(p.default)
        lines.append(f"  {p.name} = {default}")
        kind = re.sub(r",?\s*(default=.*|optional)$", "", p.type).strip()
        text = f"{kind}. {_first_sentence(p.help)}".replace("``", "")
        if p.objects is not None:
            text += ' As a list of tables: [{kind = "...", arguments...}].'

        lines.append(textwrap.fill(text, 79, initial_indent=" " * 6,
                                   subsequent_indent=" " * 6))  # fmt: skip
    return "\n".join(lines)


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?\.)(\s|$)", text)
    return match.group(1) if match else text
