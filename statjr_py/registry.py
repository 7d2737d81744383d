"""Finding templates: bundled ones and the user's (``STATJR_TEMPLATES``).

Every ``*.py`` file in a template folder is imported by path and each
:class:`~statjr_py.template.Template` subclass with a ``name`` is registered.
Names match case-insensitively, since Stat-JR's own commands are not
consistent about case (the seed writes ``2Levelimpute``).
"""
from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
from pathlib import Path

from .errors import InputError, suggest
from .paths import search_path
from .template import Template

log = logging.getLogger("statjr_py.registry")

_cache: dict[tuple, tuple[dict[str, type[Template]], dict[str, str]]] = {}


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


def _scan() -> tuple[dict[str, type[Template]], dict[str, str]]:
    folders = tuple(search_path("templates", "STATJR_TEMPLATES"))
    if folders in _cache:
        return _cache[folders]
    found: dict[str, type[Template]] = {}
    broken: dict[str, str] = {}
    for folder in folders:
        if not folder.is_dir():
            log.warning("template folder %s does not exist", folder)
            continue
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            try:
                module = _import(path)
            except Exception as exc:  # a user's broken template must not hide the others
                broken[str(path)] = f"{type(exc).__name__}: {exc}"
                log.warning("could not load template file %s: %s", path, exc)
                continue
            for obj in vars(module).values():
                if (inspect.isclass(obj) and issubclass(obj, Template) and obj is not Template
                        and obj.name and obj.__module__ == module.__name__):
                    obj.source_file = path
                    # earlier folders win: a user's template may shadow a bundled one
                    found.setdefault(obj.name.lower(), obj)
    _cache[folders] = (found, broken)
    return found, broken


def templates() -> dict[str, type[Template]]:
    """All known templates by their proper name."""
    found, _ = _scan()
    return {cls.name: cls for cls in found.values()}


def get_template(name: str) -> Template:
    """An instance of the template called ``name`` (any case)."""
    if not isinstance(name, str):
        raise InputError(f"template = {name!r}: not a template name; give e.g. '1LevelMod'")
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
    _cache.clear()
