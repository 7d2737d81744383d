"""Declaring template questions and validating the answers.

A template declares its questions as ordinary Python code that calls
``ask(question)`` in order; ``ask`` returns the parsed answer, so later
questions can depend on earlier answers with plain ``if`` and ``for``.
Stat-JR templates worked the same way, and it keeps one declaration behind
three uses:

* validation of a complete ``invars`` dict (:func:`resolve`);
* the CLI's one-question-at-a-time prompts (:func:`next_question`);
* the web interface, which asks the same :func:`next_question`.

Answers arrive either in Stat-JR's form (every value a string, lists
comma-separated, ``'Yes'``/``'No'``) or as native Python values; each question
parses both and keeps the canonical Stat-JR string for the input string.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from .errors import InputError, short_repr, suggest

#: The intercept is always available, even when a dataset lacks the column:
#: Stat-JR datasets carry ``cons`` and users expect it to exist.
CONS = "cons"


@dataclass(frozen=True)
class Var:
    """One chosen variable; ``cat`` marks a categorical one (``name.cat``)."""

    name: str
    cat: bool = False

    def __str__(self) -> str:
        return self.name + (".cat" if self.cat else "")


# --------------------------------------------------------------------------
# Question kinds
# --------------------------------------------------------------------------


@dataclass
class Question:
    """One question as TREE shows it.

    Parameters
    ----------
    key : str
        The invars key (``'y'``, ``'bin1_2'``, ...).
    text : str
        The question as TREE words it.
    help : str
        The hover help: what the answer means and how it is used.
    default : object, optional
        Used when the answer is absent; questions without one must be answered.
    optional : bool
        The answer may be left out altogether (it is then ``None``).
    check : callable(value, frame), optional
        Checks the parsed answer against the data as soon as it is given
        (raising InputError), so the CLI and the web page say what is wrong
        with an answer when it is typed, not after the last question.
    """

    key: str
    text: str
    help: str = ""
    default: Any = None
    optional: bool = False
    check: Any = None
    kind = "text"

    def parse(self, raw: Any, data_columns: Sequence[str]) -> Any:
        """Return the typed value of ``raw`` or raise :class:`InputError`."""
        return str(raw).strip()

    def to_string(self, value: Any) -> str:
        """The canonical Stat-JR string of a parsed value."""
        return str(value)

    def describe(self) -> dict:
        """A JSON-friendly description for the CLI and the web interface."""
        return {"key": self.key, "kind": self.kind, "text": self.text, "help": self.help,
                "optional": self.optional,
                "default": None if self.default is None else self.to_string(self.default)}

    def _bad(self, raw: Any, why: str, fix: str) -> InputError:
        return InputError(f"input '{self.key}' = {short_repr(raw)}: {why}; {fix}")


@dataclass
class Text(Question):
    """Free text, or one of ``choices`` (matched case-insensitively)."""

    choices: Sequence[str] | None = None
    kind = "text"

    def parse(self, raw, data_columns):
        value = str(raw).strip()
        if self.choices is None:
            if not value:
                raise self._bad(raw, "an answer is required", "give a non-empty value")
            return value
        for c in self.choices:
            if c.lower() == value.lower():
                return c
        raise self._bad(raw, "not one of the choices",
                        "choose one of " + ", ".join(repr(c) for c in self.choices)
                        + suggest(value, self.choices))

    def describe(self):
        return {**super().describe(), "choices": list(self.choices) if self.choices else None}


@dataclass
class Integer(Question):
    """A whole number, with optional bounds."""

    minimum: int | None = None
    maximum: int | None = None
    kind = "integer"

    def parse(self, raw, data_columns):
        if isinstance(raw, bool):
            raise self._bad(raw, "a yes/no value is not a number", "give a whole number")
        try:
            f = float(str(raw).strip())
        except ValueError:
            raise self._bad(raw, "not a number", "give a whole number such as 1000") from None
        if not f.is_integer():
            raise self._bad(raw, "not a whole number", "give a whole number such as 1000")
        value = int(f)
        if self.minimum is not None and value < self.minimum:
            raise self._bad(raw, f"must be at least {self.minimum}", f"give a number >= {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise self._bad(raw, f"must be at most {self.maximum}", f"give a number <= {self.maximum}")
        return value


@dataclass
class Float(Question):
    """A real number."""

    kind = "float"

    def parse(self, raw, data_columns):
        try:
            return float(str(raw).strip())
        except ValueError:
            raise self._bad(raw, "not a number", "give a number such as 0.5") from None


@dataclass
class YesNo(Question):
    """``'Yes'``/``'No'`` (or a Python bool); parsed to ``bool``."""

    kind = "yesno"

    def parse(self, raw, data_columns):
        if isinstance(raw, bool):
            return raw
        value = str(raw).strip().lower()
        if value in ("yes", "y", "true", "1"):
            return True
        if value in ("no", "n", "false", "0"):
            return False
        raise self._bad(raw, "not a yes/no answer", "answer 'Yes' or 'No'")

    def to_string(self, value):
        return "Yes" if value else "No"

    def describe(self):
        return {**super().describe(), "choices": ["Yes", "No"]}


def _check_variable(q: Question, raw: Any, name: str, data_columns: Sequence[str]) -> None:
    if name == CONS or name in data_columns:
        if "," in name:  # lists are comma-separated: such a name cannot be written back
            raise q._bad(raw, f"the variable name {short_repr(name)} holds a comma",
                         "rename the column without commas")
        return
    spaced = [c for c in data_columns if c.strip() == name or c == name + ".cat"]
    if spaced:  # answers are stripped and '.cat' is read as a flag, so these cannot be named
        raise q._bad(raw, f"the column {short_repr(spaced[0])} cannot be named in an answer "
                     "(spaces around it, or ending in '.cat')", "rename that column")
    raise q._bad(raw, f"there is no variable {short_repr(name)} in the dataset",
                 "choose one of its columns" + suggest(name[:200], list(data_columns) + [CONS]))


@dataclass
class Variable(Question):
    """One variable of the dataset."""

    kind = "variable"

    def parse(self, raw, data_columns):
        name = str(raw).strip()
        if not name:
            raise self._bad(raw, "no variable given", "name one column of the dataset")
        _check_variable(self, raw, name, data_columns)
        return name


@dataclass
class L2ID(Variable):
    """The identifier of level-2 units (schools, areas, ...)."""

    kind = "l2id"


@dataclass
class VariableList(Question):
    """Several variables; ``name.cat`` (or a ``Var``) marks a categorical one.

    ``allow_cat`` is False where dummies make no sense (responses).
    """

    allow_cat: bool = True
    kind = "varlist"

    def parse(self, raw, data_columns):
        if isinstance(raw, str):
            items: Iterable[Any] = [s for s in (p.strip() for p in raw.split(",")) if s]
        elif isinstance(raw, Iterable):
            items = list(raw)
        else:
            raise self._bad(raw, "not a list of variables", "give names separated by commas")
        out: list[Var] = []
        for item in items:
            if isinstance(item, Var):
                var = item
            else:
                text = str(item).strip()
                cat = text.endswith(".cat")
                var = Var(text[:-4] if cat else text, cat)
            _check_variable(self, raw, var.name, data_columns)
            if var.cat and not self.allow_cat:
                raise self._bad(raw, f"'{var.name}' cannot be categorical here",
                                f"drop the .cat suffix from '{var.name}'")
            if any(v.name == var.name for v in out):
                raise self._bad(raw, f"'{var.name}' is listed twice", "list each variable once")
            out.append(var)
        if not out:
            raise self._bad(raw, "no variables given", "name at least one column of the dataset")
        return out

    def to_string(self, value):
        return ",".join(str(v) for v in value)

    def describe(self):
        return {**super().describe(), "allow_cat": self.allow_cat}


# --------------------------------------------------------------------------
# Asking
# --------------------------------------------------------------------------


class MissingAnswer(Exception):
    """Raised inside a template's ``inputs`` when a question has no answer."""

    def __init__(self, question: Question):
        super().__init__(question.key)
        self.question = question


@dataclass
class Answers(Mapping[str, Any]):
    """Parsed answers in question order, with their Stat-JR strings."""

    values: dict[str, Any] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)

    def __getitem__(self, key):
        return self.values[key]

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)

    def input_string(self) -> str:
        """The dict text TREE prints as "Current input string"."""
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in self.strings.items()) + "}"


class Asker:
    """The ``ask`` callable handed to a template's ``inputs``.

    It parses the answer to each question as it is asked and records which
    keys were asked, so that keys nobody asked can be reported as unknown.
    ``data`` is the dataset, for templates whose questions depend on it.
    """

    def __init__(self, raw: Mapping[str, Any], data_columns: Sequence[str], data=None,
                 ask_defaults: bool = False):
        self.raw = dict(raw)
        self.columns = list(data_columns)
        self.data = data
        self.ask_defaults = ask_defaults
        self.answers = Answers()

    def __call__(self, question: Question) -> Any:
        if question.key in self.answers.questions:
            raise RuntimeError(f"template asks '{question.key}' twice")
        self.answers.questions[question.key] = question
        if question.key in self.raw and self.raw[question.key] is not None:
            _check_type(question, self.raw[question.key])
            value = question.parse(self.raw[question.key], self.columns)
            if question.check is not None and self.data is not None:
                question.check(value, self.data)
        elif question.default is not None and not self.ask_defaults:
            value = question.default
        elif question.optional:
            self.answers.values[question.key] = None
            return None
        else:
            del self.answers.questions[question.key]
            raise MissingAnswer(question)
        self.answers.values[question.key] = value
        self.answers.strings[question.key] = question.to_string(value)
        return value


#: What an answer may be: TREE's strings, or native Python values.
_SCALARS = (str, bool, int, float, Var)


def _check_type(question: Question, raw: Any) -> None:
    """Refuse answers of a type no question parses (dicts, nested lists, objects)."""
    import numbers

    if isinstance(raw, _SCALARS) or isinstance(raw, numbers.Number):
        return
    if question.kind == "varlist" and isinstance(raw, (list, tuple)):
        if all(isinstance(item, (str, Var)) for item in raw):
            return
        raise question._bad(raw, "a list of variables may hold only names",
                            "give names as strings, e.g. ['cons', 'standlrt']")
    raise question._bad(raw, f"a {type(raw).__name__} is not an answer",
                        "give a string" + (" or a list of names" if question.kind == "varlist"
                                           else ""))


InputsFn = Callable[[Asker], None]


def _walk(inputs: InputsFn, invars: Mapping[str, Any], columns: Sequence[str], data=None,
          ask_defaults: bool = False):
    ask = Asker(invars, columns, data, ask_defaults)
    try:
        inputs(ask)
    except MissingAnswer as missing:
        return ask.answers, missing.question
    return ask.answers, None


def check_invars(invars: Any) -> None:
    """``invars`` must be a mapping from question keys (strings) to answers."""
    if not isinstance(invars, Mapping):
        raise InputError(f"invars = {short_repr(invars)}: must be a dict of answers; "
                         "give e.g. {'y': 'normexam', 'x': 'cons,standlrt'}")
    for key in invars:
        if not isinstance(key, str):
            raise InputError(f"invars key {short_repr(key)}: question keys are strings; "
                             "give e.g. {'y': 'normexam'}")


def next_question(inputs: InputsFn, invars: Mapping[str, Any], columns: Sequence[str],
                  data=None, ask_defaults: bool = False) -> tuple[Answers, Question | None]:
    """Answers so far and the next unanswered question (``None`` when done).

    Bad answers among those given raise :class:`InputError`, so an
    interactive front end can report them before asking anything new.  With
    ``ask_defaults`` a question that has a default is still asked (as TREE
    does, offering the default) instead of being answered silently.
    """
    check_invars(invars)
    return _walk(inputs, invars, columns, data, ask_defaults)


def resolve(inputs: InputsFn, invars: Mapping[str, Any], columns: Sequence[str],
            data=None, template_name: str = "template") -> Answers:
    """Validate a complete ``invars`` mapping and return the parsed answers.

    Raises
    ------
    InputError
        For a bad value, a missing answer, or a key the template never asks.
    """
    check_invars(invars)
    answers, missing = _walk(inputs, invars, columns, data)
    if missing is not None:
        raise InputError(
            f"input '{missing.key}' is missing: {template_name} asks \"{missing.text}\"; "
            f"add '{missing.key}' to invars" + (f" ({missing.help})" if missing.help else ""))
    unknown = [k for k in invars if k not in answers.questions]
    if unknown:
        k = unknown[0]
        raise InputError(f"input '{k}' = {short_repr(invars[k])}: {template_name} does not ask for '{k}' "
                         "with these answers; remove it" + suggest(k, answers.questions))
    return answers
