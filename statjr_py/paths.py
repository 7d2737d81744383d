"""Where the bundled templates, C++ headers and datasets live.

In a checkout they sit beside the package (``templates/``, ``cpp/``,
``datasets/``); a wheel installs them inside it as ``statjr_py/_bundled/``
(see ``[tool.setuptools]`` in pyproject.toml).  Users add folders of their
own templates through ``STATJR_TEMPLATES`` and datasets through
``STATJR_DATASETS`` (``os.pathsep``-separated).
"""
from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def bundled(kind: str) -> Path:
    """The bundled folder ``kind`` ('templates', 'cpp', 'datasets', or 'kernel':
    the C++ kernel library ``pip install`` compiles, absent in a checkout)."""
    installed = _PKG / "_bundled" / kind
    if installed.is_dir():
        return installed
    return _PKG.parent / kind


def search_path(kind: str, env: str) -> list[Path]:
    """User folders from the environment variable ``env``, then the bundled one."""
    extra = [Path(p) for p in os.environ.get(env, "").split(os.pathsep) if p.strip()]
    return extra + [bundled(kind)]
