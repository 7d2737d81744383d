"""Jinja2 turning a model into C++ text; no compiler is involved here.

A template's ``.cpp.j2`` defines ``struct Model`` (see ``cpp/statjr/entry.hpp``
for what it must provide).  This module wraps it in the parts every sampler
shares: the includes, a ``Data`` struct that unpacks the arrays the engine
passes (one field per array, in the order the template gave them), and the C
entry points.  Rendering uses ``StrictUndefined`` so that a misspelt context
name fails at generation time, not as odd C++.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import functools
import re

import numpy as np

from ._version import __version__

#: The only characters a string may carry into generated C++.  Template
#: authors write the C++ in the ``.cpp.j2``; what the context supplies are
#: numbers, flags, enumerators and (through :func:`cpp_name`) names shown in
#: comments.  A string with anything else (a newline that ends a ``//``
#: comment, quotes, ``*/``, ``#``, ``;``, braces) is refused at render time,
#: so no dataset column or answer can ever become code.
_CPP_SAFE = re.compile(r"[A-Za-z0-9_ ,.+\-]*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def cpp_name(name: Any) -> str:
    """A user-chosen name as it may appear in generated C++ (comments only).

    Keeps ``[A-Za-z0-9_]`` and drops everything else, so the result can
    neither end a comment nor form an expression; ``_`` stands in for a name
    with nothing left.  Names reach the sampler as data (column indices),
    never as identifiers: this is for the reader of the ``.cpp`` only.
    """
    kept = re.sub(r"[^A-Za-z0-9_]", "", str(name))[:64]
    return kept or "_"


def tex(text: Any) -> str:
    """Escape text for LaTeX (the one function every ``.tex`` name goes through).

    Backslashes, braces and the special characters ``$ & # ^ _ % ~`` become
    their text-mode commands, line breaks become spaces.  Use it inside
    ``\\text{...}`` in math mode.
    """
    out = []
    for ch in str(text):
        if ch in _TEX:
            out.append(_TEX[ch])
        elif ch in "\r\n\t\f\v\x00":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
        "#": r"\#", "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%",
        "~": r"\textasciitilde{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def _cpp_finalize(value: Any) -> Any:
    """Refuse any context string that could be C++ rather than a value."""
    if isinstance(value, (bool, int, float)):
        return value
    if not _CPP_SAFE.fullmatch(str(value)):
        raise ValueError(f"refusing to put {str(value)[:40]!r} into generated C++: a name must go "
                         "through the cpp_name filter, and data through the arrays")
    return value


@functools.lru_cache(maxsize=None)
def _env(kind: str):
    """The Jinja2 environments, made (and jinja2 imported) when first needed.

    ``"text"``: LaTeX and other text, names escaped with the ``tex`` filter.
    ``"cpp"``: C++, every printed string checked, names through ``cpp_name``.
    Commands that render nothing (``statjr list``, ``inputs``) skip the import.
    """
    import jinja2

    opts = dict(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                lstrip_blocks=True, autoescape=False)
    if kind == "text":
        env = jinja2.Environment(**opts)
        env.filters["tex"] = tex
    else:
        env = jinja2.Environment(**opts, finalize=_cpp_finalize)
        env.filters["cpp_name"] = cpp_name
    return env

#: numpy dtype -> C++ element type for arrays handed to a sampler.
CTYPES = {np.dtype(np.float64): "double", np.dtype(np.int32): "std::int32_t"}


@functools.lru_cache(maxsize=256)
def _compiled_text(text: str):
    # Jinja2 compiles a template to Python each time it is given as a string
    # (a few ms each; a run renders its LaTeX once per fit), so keep them.
    return _env("text").from_string(text)


def render_string(text: str, context: Mapping[str, Any]) -> str:
    """Render Jinja2 text (LaTeX, small snippets) with strict undefined names."""
    return _compiled_text(text).render(**context)


@functools.lru_cache(maxsize=None)
def _folder_env(folder: str):
    # One environment per template folder, so that Jinja2's own cache of
    # compiled templates lasts between renders; its loader still checks each
    # file's modification time, so an edited .cpp.j2 is compiled again.
    import jinja2

    return _env("cpp").overlay(loader=jinja2.FileSystemLoader(folder))


def render_file(path: Path, context: Mapping[str, Any]) -> str:
    """Render a ``.cpp.j2``; ``{% include %}`` looks beside it."""
    return _folder_env(str(Path(path).parent)).get_template(Path(path).name).render(**context)


def data_struct(arrays: Mapping[str, np.ndarray]) -> str:
    """C++ ``struct Data`` with a pointer and a length per array."""
    fields, inits = [], []
    for i, (name, arr) in enumerate(arrays.items()):
        if not _IDENT.fullmatch(name):
            raise ValueError(f"array name {name!r} is not a C++ identifier; templates name "
                             "their arrays, never after user data")
        ctype = CTYPES[np.asarray(arr).dtype]
        fields.append(f"    const {ctype} *{name}; std::int64_t n_{name};")
        inits.append(f"{name}(static_cast<const {ctype} *>(a[{i}])), n_{name}(len[{i}])")
    init = ("\n        : " + ",\n          ".join(inits)) if inits else ""
    return ("struct Data {\n" + "\n".join(fields) + "\n"
            "    Data(const void *const *a, const std::int64_t *len)" + init + " {"
            + ("" if inits else " (void)a; (void)len;") + "}\n};\n")


def sampler_source(template_file: Path, context: Mapping[str, Any],
                   arrays: Mapping[str, np.ndarray], template_name: str) -> str:
    """The complete C++ translation unit for one model."""
    body = render_file(template_file, context)
    return (f"// Generated by statjr-py {__version__} from template {cpp_name(template_name)}.\n"
            "// Edit the template's .cpp.j2, not this file.\n"
            "#include <cstdint>\n#include <cmath>\n#include <vector>\n"
            '#include "statjr/linalg.hpp"\n\n'
            + data_struct(arrays) + "\n" + body + "\n"
            '#include "statjr/entry.hpp"\n')
