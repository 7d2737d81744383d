"""Finding templates: bundled ones and the user's (``STATJR_TEMPLATES``).

Every ``*.py`` file in a template folder is imported by path and each
:class:`~statjr_py.template.Template` subclass with a ``name`` is registered.
Names match case-insensitively, since Stat-JR's own commands are not
consistent about case (the seed writes ``2Levelimpute``).

:func:`get_template` imports only the bundled file that declares the name
asked for (found by reading its ``name = "..."`` line), so running one
template does not pay for importing the others and whatever they import
(issue #16).  When the user has template files (``STATJR_TEMPLATES``), when
no file declares the name that way, or when the file does not define it
after all, every file is imported, as :func:`templates` always does, and the
answer is the same as before.
"""
from __future__ import annotations

import importlib.util
import inspect
import logging
import re
import sys
import threading
from pathlib import Path

from .errors import InputError, suggest
from .paths import search_path
from .template import Template

log = logging.getLogger("statjr_py.registry")

_cache: dict[tuple, tuple[dict[str, type[Template]], dict[str, str]]] = {}
#: Folders -> lower-case name -> the files whose text declares it, in search order.
_index: dict[tuple, dict[str, list[Path]]] = {}
#: Importing a template file runs its code: one thread at a time.
_lock = threading.RLock()
#: A class attribute ``name = "..."`` (what a template declares itself as).
_DECLARED = re.compile(r"""^[ \t]+name\s*(?::[^=]*)?=\s*(['"])([^'"\n]+)\1""", re.M)


def _import(path: Path):
    modname = "statjr_templates._" + "".join(c if c.isalnum() else "_" for c in str(path))
    if modname in sys.modules:
        return sys.modules[modname]
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[modname]
        raise
    return module


def _files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")]


def _templates_in(module, path: Path):
    for obj in vars(module).values():
        if (inspect.isclass(obj) and issubclass(obj, Template) and obj is not Template
                and obj.name and obj.__module__ == module.__name__):
            obj.source_file = path
            yield obj


def _declarations(folders: tuple) -> dict[str, list[Path]]:
    """Lower-case template name -> files declaring it, read (not imported), earlier folders first."""
    if folders not in _index:
        index: dict[str, list[Path]] = {}
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in _files(folder):
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                for m in _DECLARED.finditer(text):
                    index.setdefault(m.group(2).lower(), []).append(path)
        _index[folders] = index
    return _index[folders]


def _lazy_find(name: str) -> type[Template] | None:
    """The template ``name`` by importing only the first file that declares it, or None."""
    folders = tuple(search_path("templates", "STATJR_TEMPLATES"))
    if folders in _cache:  # everything is imported already
        return _cache[folders][0].get(name.lower())
    # Only the bundled folder's files are known to declare their names on a
    # ``name = "..."`` line.  A user's file may define a template whose name is
    # inherited or computed, and it must shadow a bundled one as the full scan
    # has it, so with any user template file about, the full scan decides.
    if any(_files(folder) for folder in folders[:-1] if folder.is_dir()):
        return None
    candidates = _declarations(folders).get(name.lower(), [])
    if not candidates:
        return None
    try:
        module = _import(candidates[0])
    except Exception:  # the full scan reports it with the others
        return None
    for cls in _templates_in(module, candidates[0]):
        if cls.name.lower() == name.lower():
            return cls
    return None


def _scan() -> tuple[dict[str, type[Template]], dict[str, str]]:
    folders = tuple(search_path("templates", "STATJR_TEMPLATES"))
    with _lock:
        if folders not in _cache:
            _cache[folders] = _scan_all(folders)
        return _cache[folders]


def _scan_all(folders: tuple) -> tuple[dict[str, type[Template]], dict[str, str]]:
    found: dict[str, type[Template]] = {}
    broken: dict[str, str] = {}
    for folder in folders:
        if not folder.is_dir():
            log.warning("template folder %s does not exist", folder)
            continue
        for path in _files(folder):
            try:
                module = _import(path)
            except Exception as exc:  # a user's broken template must not hide the others
                broken[str(path)] = f"{type(exc).__name__}: {exc}"
                log.warning("could not load template file %s: %s", path, exc)
                continue
            for obj in _templates_in(module, path):
                # earlier folders win: a user's template may shadow a bundled one
                found.setdefault(obj.name.lower(), obj)
    return found, broken


def templates() -> dict[str, type[Template]]:
    """All known templates by their proper name."""
    found, _ = _scan()
    return {cls.name: cls for cls in found.values()}


def get_template(name: str) -> Template:
    """An instance of the template called ``name`` (any case)."""
    if not isinstance(name, str):
        raise InputError(f"template = {name!r}: not a template name; give e.g. '1LevelMod'")
    with _lock:
        cls = _lazy_find(name)
    if cls is not None:
        return cls()
    found, broken = _scan()
    cls = found.get(name.lower())
    if cls is None:
        names = sorted(c.name for c in found.values())
        msg = (f"template = {name!r}: no such template; known templates are "
               + ", ".join(names) + suggest(name, names))
        if broken:
            msg += "; these template files failed to load: " + "; ".join(
                f"{p} ({e})" for p, e in broken.items())
        raise InputError(msg)
    return cls()


def clear_cache() -> None:
    """Forget scanned folders (after changing STATJR_TEMPLATES at run time)."""
    with _lock:
        _cache.clear()
        _index.clear()
