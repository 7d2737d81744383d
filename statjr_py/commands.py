"""Text a user types or is shown: TREE's input strings and the Command pane.

``parse_mapping`` reads ``--invars``/``--estoptions`` and the web page's
"Set" box (JSON or the Python-dict text TREE prints, pasted verbatim);
``command_text`` writes the ``RunStatJR(...)`` call that reruns a job.  Both
the CLI and the web interface use them, so they live here, below both.
"""
from __future__ import annotations

import ast
import json
from typing import Any

from .errors import InputError, short_repr

#: What each option's dict looks like, for the fix in error messages.
EXAMPLES = {"invars": "\"{'y': 'normexam', 'x': 'cons,standlrt'}\"",
            "estoptions": "\"{'burnin': 500, 'iterations': 5000, 'seed': 1}\""}
_SCALARS = (str, bool, int, float)


def _kind_of(value: Any) -> str:
    """'a list', 'a number'...: what a value is, in a user's words."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "a yes/no value"
    if isinstance(value, (int, float)):
        return "a number"
    names = {str: "a string", list: "a list", tuple: "a tuple", dict: "a dict", set: "a set",
             frozenset: "a set", bytes: "bytes", complex: "a complex number"}
    return names.get(type(value), f"a {type(value).__name__}")


def parse_mapping(text: str | None, what: str) -> dict:
    """JSON or Python-literal dict text -> dict, its keys and values checked.

    Both parsers give up on deeply nested text with RecursionError or
    MemoryError rather than ValueError; those are a user's typing too, so
    they end as one line, like any other text that is not a dict.
    """

    if text is None or not text.strip():
        return {}
    example, kinds = EXAMPLES.get(what, EXAMPLES["invars"]), []
    for parser in (json.loads, ast.literal_eval):
        try:
            value = parser(text)
        except (RecursionError, MemoryError) as exc:
            raise InputError(f"--{what} = {short_repr(text)}: nested too deeply to read "
                             f"({type(exc).__name__}); give a flat dict, e.g. {example}") from None
        except (ValueError, SyntaxError, TypeError):
            continue
        if isinstance(value, dict):
            _check_mapping(value, what)
            return value
        kinds.append(_kind_of(value))
    got = f"{kinds[0]}, not a dict" if kinds else "not a dict"
    raise InputError(f"--{what} = {short_repr(text)}: {got}; give JSON or TREE's input string, "
                     f"e.g. {example}")


def _check_mapping(value: dict, what: str) -> None:
    """Refuse keys and values no question or option can take, naming them.

    Answers are strings, numbers, yes/no or (for a list of variables) a flat
    list of names; options are single values.  Anything else (a dict, a set,
    a list of lists, 10,000 levels of nesting) would otherwise reach the
    engine, whose messages repr the value and may themselves fail on it.
    """

    example = EXAMPLES.get(what, EXAMPLES["invars"])
    for key, item in value.items():
        if not isinstance(key, str):
            raise InputError(f"--{what} key {short_repr(key)}: keys must be strings (names in quotes); "
                             f"give e.g. {example}")
        if item is None or isinstance(item, _SCALARS):
            continue
        where = f"--{what} {short_repr(key)} = {short_repr(item)}"
        if what == "estoptions":
            raise InputError(f"{where}: {_kind_of(item)} is not an option value; "
                             "give a single value such as 500")
        if isinstance(item, (list, tuple)):
            inner = next((v for v in item if not isinstance(v, (str, int, float))
                          or isinstance(v, bool)), None)
            if inner is None:
                continue
            raise InputError(f"{where}: {_kind_of(inner)} inside a list; give the names as one "
                             "string such as 'cons,standlrt' or as a flat list of strings")
        raise InputError(f"{where}: {_kind_of(item)} is not an answer; give a string such as "
                         "'normexam' (or a list of names for a list of variables)")


def command_text(template: str, dataset: str, invars: dict, estoptions: dict) -> str:
    """The Python call that reruns this job, as TREE's Command pane shows it."""
    return (f"RunStatJR(template={template!r}, dataset={dataset!r}, invars={invars!r}, "
            f"estoptions={estoptions!r})")
