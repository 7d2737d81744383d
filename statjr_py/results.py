"""The named outputs of a run, and writing them out.

``Results`` is an ordered mapping from output name to object, exactly the
names TREE lists in its output pane, so that users and programs reach a
result by the name the documentation gives it.  Each entry also has a kind,
which decides its file format when saved.
"""
from __future__ import annotations

import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

#: kind -> file extension used by save() and to_zip()
EXTENSIONS = {"table": ".csv", "dataset": ".dta", "svg": ".svg", "python": ".py",
              "cpp": ".cpp", "tex": ".tex", "text": ".txt"}


class Results(OrderedDict):
    """Ordered mapping of output name -> DataFrame or str.

    Use ``results['ModelResults']`` to reach an output, ``results.kind(name)``
    to learn how it is stored, ``save(folder)`` to write everything in its
    natural format and ``to_zip(path)`` for one bundle (TREE's Download).
    """

    def __init__(self):
        super().__init__()
        self._kinds: dict[str, str] = {}

    def add(self, name: str, obj: Any, kind: str | None = None) -> None:
        """Add an output; the kind is inferred from the object and name if omitted."""
        if kind is None:
            kind = _infer_kind(name, obj)
        if kind not in EXTENSIONS:
            raise ValueError(f"unknown output kind {kind!r}")
        self[name] = obj
        self._kinds[name] = kind

    def kind(self, name: str) -> str:
        return self._kinds[name]

    def merge(self, other: "Results", prefix: str = "") -> None:
        """Add every output of ``other``, its names prefixed (``Model1_``...)."""
        for name, obj in other.items():
            self.add(prefix + name, obj, other.kind(name))

    def filename(self, name: str) -> str:
        ext = EXTENSIONS[self._kinds[name]]
        safe = name.replace(":", "_").replace("/", "_")
        return safe if safe.endswith(ext) else safe + ext

    def _bytes(self, name: str) -> bytes:
        obj, kind = self[name], self._kinds[name]
        if kind == "table":
            return obj.to_csv(index=False).encode()
        if kind == "dataset":
            return _dta_bytes(obj)
        return str(obj).encode()

    def save(self, folder) -> list[Path]:
        """Write every output into ``folder`` (created if needed)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name in self:
            path = folder / self.filename(name)
            path.write_bytes(self._bytes(name))
            paths.append(path)
        return paths

    def to_zip(self, path) -> Path:
        """Bundle every output into one zip file."""
        path = Path(path)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name in self:
                z.writestr(self.filename(name), self._bytes(name))
        return path

    def tables(self) -> Iterator[str]:
        return (n for n, k in self._kinds.items() if k == "table")

    def __repr__(self) -> str:
        lines = [f"Results with {len(self)} outputs:"]
        lines += [f"  {name} [{self._kinds[name]}]" for name in self]
        return "\n".join(lines)


def _infer_kind(name: str, obj: Any) -> str:
    if isinstance(obj, pd.DataFrame):
        return "table"
    for kind, ext in EXTENSIONS.items():
        if name.endswith(ext):
            return kind
    return "text"


def _dta_bytes(frame: pd.DataFrame) -> bytes:
    """A DataFrame as Stata .dta bytes (pyreadstat keeps codes and missing values)."""
    import os
    import tempfile

    import pyreadstat

    fd, tmp = tempfile.mkstemp(suffix=".dta")
    os.close(fd)
    try:
        pyreadstat.write_dta(_stata_safe(frame), tmp)
        return Path(tmp).read_bytes()
    finally:
        os.unlink(tmp)


def _stata_safe(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [str(c).replace(".", "_")[:32] for c in out.columns]
    return out


def write_dta(frame: pd.DataFrame, path) -> None:
    """Write a DataFrame as .dta; used for the bundled datasets and outputs."""
    Path(path).write_bytes(_dta_bytes(frame))


def table_text(frame: pd.DataFrame) -> str:
    """A results table as aligned text for the terminal.

    Counts (ESS, cases, df) print as whole numbers, everything else with four
    significant digits, which is as much as Monte Carlo error supports.
    """
    counts = {"ess", "n", "cases", "df", "n_cases"}
    formatters = {c: (lambda v: f"{v:.0f}" if pd.notna(v) else "") for c in frame.columns if c in counts}
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        return frame.to_string(index=False, formatters=formatters,
                               float_format=lambda v: f"{v:.4g}")
