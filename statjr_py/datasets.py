"""Loading datasets and turning chosen variables into design matrices.

Datasets are always copied on entry, so nothing a template does can alter the
caller's DataFrame or file.  A ``.dta``'s variable and value labels come with
its frame, in ``frame.attrs`` (:class:`statjr_py.stata.Labels`), so that the
outputs can carry them again.
"""
from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .errors import InputError, short_repr, suggest
from .inputs import CONS, Var
from .paths import search_path
from .results import path_problem, shown_path
from .stata import LABELS_KEY, Labels, code_label, labels_of

log = logging.getLogger("statjr_py.datasets")

SUFFIXES = (".dta", ".csv", ".txt")


@dataclass
class Dataset:
    """A named, private copy of the data a template runs on."""

    name: str
    frame: pd.DataFrame
    source: str | None = None  # the path or bundled name, for script.py

    @property
    def labels(self) -> Labels:
        """The variable and value labels the data carry (from a .dta, or the caller's frame)."""
        return labels_of(self.frame)


def bundled_names() -> list[str]:
    """Names of the datasets found on the dataset search path."""
    names = []
    for folder in search_path("datasets", "STATJR_DATASETS"):
        if folder.is_dir():
            names += [p.stem for p in sorted(folder.iterdir()) if p.suffix in SUFFIXES]
    return sorted(set(names))


def _read(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".dta":
            import pyreadstat
            frame, meta = pyreadstat.read_dta(str(path))
            # integer columns with missing values arrive as objects: make them numeric
            for col in frame.columns[frame.dtypes == object]:
                numeric = pd.to_numeric(frame[col], errors="coerce")
                if numeric.notna().sum() == frame[col].notna().sum():
                    frame[col] = numeric
            labels = Labels.from_meta(meta).restricted(frame.columns)
            if labels:  # kept for the outputs (docs/interchange.md)
                frame.attrs[LABELS_KEY] = labels
            return frame
        if suffix in _TEXT:
            return _read_text(path, suffix)
    except InputError:
        raise
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"dataset '{path}': could not be read ({exc}); "
                         "check that the file is a valid .dta, .csv or .txt") from None
    except Exception as exc:  # pyreadstat raises its own error classes
        raise InputError(f"dataset '{path}': could not be read ({type(exc).__name__}: {exc}); "
                         "check that the file is a valid .dta, .csv or .txt") from None
    raise InputError(f"dataset '{path}': unknown file type '{suffix}'; "
                     "use a .dta, .csv or whitespace-delimited .txt file")


#: pandas.read_csv arguments per text suffix; .txt is Stat-JR's LoadTextFile:
#: whitespace-delimited with a header row.  ``index_col=False``: pandas would
#: otherwise take the leading fields of rows longer than the header as an index
#: and shift every value along.
_TEXT = {".csv": {"index_col": False},
         ".txt": {"sep": r"\s+", "na_values": [".", "*", "NA"], "index_col": False}}


def _read_text(path: Path, suffix: str) -> pd.DataFrame:
    """A .csv or .txt with a header row; refuse repeated names and rows longer than the header.

    Rows with fewer fields than the header get missing values, as in Stata's
    ``import delimited``; rows with more are refused naming the first such
    line, since no column could be said to hold the extra values.  pandas
    sets the width from the header and the first data row, errors on a later
    row wider than that, and silently drops (or, without ``index_col=False``,
    shifts) the extra fields of a wide first row; so that row is checked here
    first.  Empty trailing fields (a trailing comma) hold nothing and pass:
    when the first row has them they are read as extra columns that must
    stay empty.
    """
    header, first, first_line = _first_records(path, suffix)
    dups = _repeated([h for h in header if h])  # pandas names empty ones Unnamed: 1, 2, ...
    if dups:
        shown = ", ".join(repr(_shown(c, 40)) for c in dups[:5]) + (", ..." if len(dups) > 5 else "")
        raise InputError(f"dataset '{path}': column names {shown} appear more than once in the "
                         "header; give every column its own name in the file")
    options = _TEXT[suffix]
    wide = max(len(first) - len(header), 0)
    if any(f.strip() for f in first[len(header):]):
        raise _too_many_fields(path, len(header), first_line, len(first))
    try:
        if not wide:
            return pd.read_csv(path, **options)
        names = list(pd.read_csv(path, nrows=0, **options).columns)
        extra = [f"\x00statjr-extra-{i}" for i in range(len(first) - len(names))]
        frame = pd.read_csv(path, header=0, names=[*names, *extra], **options)
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", str(exc))
        if not m:
            raise
        found = _first_long_line(path, suffix, len(header))
        raise _too_many_fields(path, len(header), *(found if found[0] else map(int, m.groups()))) from None
    if frame[extra].notna().to_numpy().any():
        raise _too_many_fields(path, len(header), *_first_long_line(path, suffix, len(header)))
    return frame.drop(columns=extra)


def _too_many_fields(path: Path, expected: int, line: int | None, count: int | None) -> InputError:
    where = f"line {line} has {count} fields" if line else "a row has more fields"
    return InputError(f"dataset '{path}': {where} but the header names {expected} columns; "
                      "the extra values belong to no column: add their names to the header, or "
                      "remove the extra fields (a value containing the separator needs quotes)")


def _repeated(names: list[str]) -> list[str]:
    seen, dups = set(), {}
    for n in names:
        if n in seen:
            dups[n] = None
        seen.add(n)
    return list(dups)


def _records(fh, suffix: str):
    """(line number where it ends, fields) of each non-blank record, as pandas splits them."""
    import csv

    if suffix == ".csv":
        # pandas reads cells of any length; so must the check (csv's default stops at 128 KB)
        csv.field_size_limit(max(csv.field_size_limit(), 2 ** 31 - 1))
        reader = csv.reader(fh)
        for record in reader:
            if record:
                yield reader.line_num, record
    else:
        for number, line in enumerate(fh, 1):
            if line.strip():
                yield number, line.split()


def _first_records(path: Path, suffix: str) -> tuple[list[str], list[str], int | None]:
    """The header's fields as written (before pandas renames repeats), the first data row's and its line."""
    import csv

    try:
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
            records = _records(fh, suffix)
            header = next(records, (0, []))[1]
            line, first = next(records, (None, []))
            return header, first, line
    except csv.Error as exc:
        raise InputError(f"dataset '{path}': its first rows could not be read ({exc}); "
                         "check that the file is a valid .csv") from None


def _first_long_line(path: Path, suffix: str, expected: int) -> tuple[int | None, int | None]:
    """(line number, field count) of the first data row with non-empty fields beyond ``expected``."""
    import csv

    try:
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
            records = _records(fh, suffix)
            next(records, None)
            for line, record in records:
                if any(f.strip() for f in record[expected:]):
                    return line, len(record)
    except (csv.Error, OSError):
        pass
    return None, None


#: Memory a column costs beyond its cells (pandas' per-column bookkeeping),
#: charged so that a header of a million names cannot pass as "one row".
_COLUMN_BYTES = 1024
#: A string cell costs a pointer plus a Python str object (about 49 bytes plus its text).
_STRING_CELL_BYTES = 57
_MB = 2 ** 20


def check_size(path, max_bytes: int | None = None) -> None:
    """Refuse a file that is corrupt about its size, or too big for ``max_bytes``.

    Decided from the header and a byte count only, so that a tiny file which
    claims billions of rows is refused before anything is allocated.

    Parameters
    ----------
    path : str or Path
        A ``.dta``, ``.csv`` or ``.txt`` file.
    max_bytes : int, optional
        Refuse the file when its parsed frame would need more memory than
        this, estimated at 1 KB per column plus, for a ``.dta``, 8 bytes per
        numeric cell and a Python string per text cell, and for a ``.csv``
        or ``.txt`` (whose types are unknown before parsing) 8 bytes per cell
        of an upper bound on its shape (lines x header fields).  ``None``
        (the Python API's default) sets no cap; then only a ``.dta`` whose
        header claims more data than the file holds is refused, as corrupt,
        so ordinary large datasets load.

    Raises
    ------
    InputError
        Naming the file, what it claims or would need, and the fix.
    """
    path = Path(path)
    size = path.stat().st_size
    if path.suffix.lower() == ".dta":
        rows, cols, need = _dta_claim(path, size)
    elif max_bytes is None or path.suffix.lower() not in _TEXT:
        return
    else:
        rows, cols = _text_shape(path, path.suffix.lower())
        need = cols * (rows * 8 + _COLUMN_BYTES)
    if max_bytes is not None and need > max_bytes:
        raise InputError(
            f"dataset '{path}': {rows} rows of {cols} columns would need about {need / _MB:.0f} MB "
            f"in memory, more than the {max_bytes / _MB:.0f} MB allowed; use fewer rows or columns, "
            "or raise the limit (statjr serve --max-upload)")


def _dta_claim(path: Path, size: int) -> tuple[int, int, int]:
    """(rows, columns, bytes in memory) that a .dta's header claims; refuse a lying header."""
    import pyreadstat
    try:
        _frame, meta = pyreadstat.read_dta(str(path), metadataonly=True)
    except Exception as exc:  # pyreadstat raises its own error classes
        raise InputError(f"dataset '{path}': could not be read ({type(exc).__name__}: {exc}); "
                         "check that the file is a valid .dta file") from None
    rows, cols = _dta_header_rows(path), int(meta.number_columns or 0)
    if rows is None:
        rows = max(int(meta.number_rows or 0), 0)
    widths = getattr(meta, "variable_storage_width", None) or {}
    kinds = getattr(meta, "readstat_variable_types", None) or {}
    # Every observation occupies the sum of the variables' storage widths in the file.
    row_bytes = max(sum(max(int(w), 1) for w in widths.values()) if widths else cols, 1)
    if rows * row_bytes > size:
        raise InputError(
            f"dataset '{path}': the header claims {rows} rows of {row_bytes} bytes "
            f"({rows * row_bytes / _MB:.0f} MB) but the file holds only {size} bytes; the file is "
            "corrupt or truncated: save it again from Stata")
    cell = [_STRING_CELL_BYTES + int(widths.get(n, 8)) if kinds.get(n) == "string" else 8
            for n in meta.column_names] or [8] * cols
    return rows, cols, rows * sum(cell) + cols * _COLUMN_BYTES


def _dta_header_rows(path: Path) -> int | None:
    """The observation count a Stata 117-119 header states; None for other formats.

    Read from the bytes, because readstat reports counts past 2**31 as unknown.
    """
    with path.open("rb") as fh:
        head = fh.read(256)
    m = re.match(rb"<stata_dta><header><release>(\d{3})</release><byteorder>(LSF|MSF)</byteorder>"
                 rb"<K>.{2,4}?</K><N>", head, re.S)
    if not m:
        return None
    width = 4 if m.group(1) == b"117" else 8
    raw = head[m.end():m.end() + width]
    return int.from_bytes(raw, "little" if m.group(2) == b"LSF" else "big") if len(raw) == width else None


def _text_shape(path: Path, suffix: str, chunk: int = _MB) -> tuple[int, int]:
    """Upper bounds on (rows, columns) of a text file, from a line count and its header.

    Read in ``chunk``-sized blocks, so a file that is one endless line costs no
    more memory than a short one.  Quoted separators and newlines only make
    the bounds larger, which errs on the side of refusing.
    """
    newlines, cols, header_done, in_field = 0, 0, False, False
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            newlines += block.count(b"\n")
            if header_done:
                continue
            head, nl, _rest = block.partition(b"\n")
            header_done = bool(nl)
            if suffix == ".csv":
                cols += head.count(b",")
            else:  # fields are runs of non-space; a run split across blocks counts once
                runs = len(re.findall(rb"\S+", head))
                if runs and in_field and not head[:1].isspace():
                    runs -= 1
                cols += runs
                in_field = bool(head) and not head[-1:].isspace()
    rows = newlines + 1
    return rows, (cols + 1 if suffix == ".csv" else max(cols, 1))


def check_columns(frame: pd.DataFrame, name: str) -> None:
    """Refuse column names a template cannot address: duplicates and non-strings.

    Answers name variables by string, so a repeated or numeric column name
    would be ambiguous or unreachable; renaming is the caller's decision, so
    nothing is converted silently.
    """
    bad = [c for c in frame.columns if not isinstance(c, str)]
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5]) + (", ..." if len(bad) > 5 else "")
        raise InputError(f"dataset '{name}': column names {shown} are not strings; rename the "
                         "columns first, e.g. df.columns = df.columns.astype(str)")
    dups = list(dict.fromkeys(frame.columns[frame.columns.duplicated()]))
    if dups:
        shown = ", ".join(repr(c) for c in dups[:5]) + (", ..." if len(dups) > 5 else "")
        raise InputError(f"dataset '{name}': column names {shown} appear more than once; give "
                         "every column its own name, or keep the first of each with "
                         "df = df.loc[:, ~df.columns.duplicated()]")


def load_bundled(name: str) -> Dataset:
    """Load a dataset by its name on the dataset search path, never by path."""
    if name in bundled_names():
        for folder in search_path("datasets", "STATJR_DATASETS"):
            for suffix in SUFFIXES:
                candidate = folder / f"{name}{suffix}"
                if candidate.is_file():
                    check_size(candidate)
                    frame = _read(candidate)
                    check_columns(frame, name)
                    return Dataset(name, frame, name)
    raise InputError(f"dataset = {name!r}: no such bundled dataset; choose one of "
                     f"{', '.join(bundled_names())}" + suggest(name, bundled_names()))


def load_dataset(spec, *, max_bytes: int | None = None) -> Dataset:
    """Load ``spec``: a bundled name, a file path, or a pandas DataFrame.

    Parameters
    ----------
    spec : str, Path, DataFrame or Dataset
        What to load; frames are copied, never modified.
    max_bytes : int, optional
        Memory cap for a file (see :func:`check_size`); the web server sets
        one for uploads, the Python API none.

    Raises
    ------
    InputError
        For a missing, unreadable, corrupt or oversized file, and for column
        names that are repeated or not strings.
    """
    if isinstance(spec, Dataset):
        check_columns(spec.frame, spec.name)
        return Dataset(spec.name, spec.frame.copy(), spec.source)
    if isinstance(spec, pd.DataFrame):
        check_columns(spec, "data")
        return Dataset("data", spec.copy(deep=True), None)
    if not isinstance(spec, (str, Path)):
        raise InputError(f"dataset = {type(spec).__name__}: not a dataset; "
                         "give a bundled name, a file path or a pandas DataFrame")
    if problem := path_problem(spec):
        why, fix = problem
        raise InputError(f"dataset = {shown_path(spec)}: {why}; {fix}, or give one of "
                         f"{', '.join(bundled_names())}")
    path = Path(spec)
    try:
        is_file = path.suffix.lower() in SUFFIXES and path.is_file()
    except OSError as exc:  # e.g. ENAMETOOLONG for a path over 4096 bytes
        raise InputError(f"dataset = {shown_path(spec)}: cannot be opened ({exc.strerror or exc}); "
                         "give a shorter path, or move the file nearer the working folder") from None
    if is_file:
        check_size(path, max_bytes)
        frame = _read(path)
        check_columns(frame, str(path))
        return Dataset(path.stem, frame, str(path))
    if str(spec) in bundled_names():
        return load_bundled(str(spec))
    raise InputError(f"dataset = {str(spec)!r}: no such file or bundled dataset; give a path "
                     f"to a .dta/.csv/.txt file or one of {', '.join(bundled_names())}"
                     + suggest(str(spec), bundled_names()))


def _shown(text: str, limit: int = 80) -> str:
    """User text made fit for a message: no control characters, not too long."""
    text = "".join(c if c.isprintable() else "?" for c in str(text))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def upload_name(filename: str) -> tuple[str, str]:
    """(dataset name, suffix) for a file name a user sent, or InputError for a bad type.

    The name keeps letters, digits, ``_``, ``.`` and ``-`` (any script) and
    loses folders, control characters and excess length, so it is safe in a
    page, a header and a message; it never equals a bundled name, so that
    choosing it by name again is unambiguous.
    """
    base = "".join(c for c in re.split(r"[/\\]", filename)[-1] if c.isprintable())
    stem, dot, ext = base.rpartition(".")
    suffix = "." + ext.lower() if dot else ""
    if suffix not in SUFFIXES:
        raise InputError(f"upload '{_shown(filename)}': unknown file type '{_shown(suffix, 12) or '(none)'}'; "
                         "use .dta, .csv or .txt")
    name = re.sub(r"[^\w.-]+", "_", stem).strip("._-")[:64] or "upload"
    return (name + "_upload" if name in bundled_names() else name), suffix


class Uploads:
    """Files one user uploaded, kept in ``folder`` and loaded again by name.

    Files are stored under random names (the user's name never touches the
    file system); at most ``keep`` are kept, the least recently used going
    first; each is loaded with the memory cap ``max_bytes`` (see
    :func:`check_size`).
    """

    def __init__(self, folder, keep: int = 10, max_bytes: int | None = None):
        self.folder, self.keep, self.max_bytes = Path(folder), keep, max_bytes
        self.files: dict[str, Path] = {}

    def __contains__(self, name) -> bool:
        return name in self.files

    def names(self) -> list[str]:
        return list(self.files)

    def new_file(self, suffix: str) -> Path:
        """A fresh path in the folder to write an upload to before :meth:`add`."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{secrets.token_hex(8)}{suffix}"

    def add(self, name: str, path: Path) -> Dataset:
        """Load the written file ``path`` as upload ``name`` and keep it; delete it if it fails."""
        try:
            data = self._load(name, path)
        except InputError:
            path.unlink(missing_ok=True)
            raise
        old = self.files.pop(name, None)
        if old is not None and old != path:
            old.unlink(missing_ok=True)
        self.files[name] = path
        while len(self.files) > self.keep:
            self.files.pop(next(iter(self.files))).unlink(missing_ok=True)
        return data

    def load(self, name: str) -> Dataset:
        path = self.files.pop(name)
        self.files[name] = path  # now the most recently used
        return self._load(name, path)

    def _load(self, name: str, path: Path) -> Dataset:
        shown = name + path.suffix
        try:
            data = load_dataset(path, max_bytes=self.max_bytes)
            if data.frame.empty or len(data.frame.columns) == 0:
                raise InputError(f"dataset '{path}': no rows or columns; check the file")
        except InputError as exc:  # name the file as the user knows it, not its place on disk
            raise InputError(str(exc).replace(str(path), shown)) from None
        return Dataset(name, data.frame, shown)


def load_by_name(name: str, uploads: Uploads | None = None) -> Dataset:
    """A bundled dataset or one of ``uploads``, chosen by name, never by path.

    For a server, where the name comes from a web page: a path would let the
    page read any file the server can.
    """
    if not name or re.search(r"[/\\\x00]", name) or name in (".", ".."):
        raise InputError(f"dataset = '{_shown(name)}': datasets are chosen by name, not by path; "
                         "choose one from the list, or upload the file")
    if uploads is not None and name in uploads:
        return uploads.load(name)
    if name in bundled_names():
        return load_bundled(name)
    known = bundled_names() + (uploads.names() if uploads is not None else [])
    raise InputError(f"dataset = '{_shown(name)}': not a bundled dataset or one of your uploads; "
                     f"choose one of {', '.join(known)}, or upload the file" + suggest(name, known))


def column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column as float64, with ``cons`` made up when the data lack it."""
    if name == CONS and CONS not in frame.columns:
        return np.ones(len(frame))
    values = pd.to_numeric(frame[name], errors="coerce")
    bad = values.isna() & frame[name].notna()
    if bad.any():
        example = frame[name][bad].iloc[0]
        raise InputError(f"variable '{name}' has non-numeric value {example!r}; "
                         "recode it as numbers before modelling")
    return values.to_numpy(dtype=float)


def categories(frame: pd.DataFrame, name: str) -> list[float]:
    """Sorted distinct observed codes of a categorical variable."""
    values = column(frame, name)
    return sorted(set(values[~np.isnan(values)].tolist()))


def design(frame: pd.DataFrame, variables: Sequence[Var]) -> tuple[np.ndarray, list[str]]:
    """Design matrix and term names for the chosen explanatory variables.

    A categorical variable becomes one dummy per category but the last, which
    is the reference (as Stat-JR and the seed document); the dummy of code k
    is named ``<var>_<k>``.  Missing values stay NaN: what to do with them is
    the template's decision.
    """
    cols, terms = [], []
    for var in variables:
        x = column(frame, var.name)
        if var.cat:
            codes = categories(frame, var.name)
            if len(codes) < 2:
                raise InputError(f"variable '{var.name}' is marked categorical (.cat) but has "
                                 f"{len(codes)} distinct value(s); drop the .cat suffix or the variable")
            for code in codes[:-1]:
                d = np.where(np.isnan(x), np.nan, (x == code).astype(float))
                cols.append(d)
                terms.append(f"{var.name}_{code_label(code)}")
        else:
            cols.append(x)
            terms.append(var.name)
    return np.column_stack(cols) if cols else np.empty((len(frame), 0)), terms


def complete_rows(*arrays: np.ndarray) -> np.ndarray:
    """Boolean mask of rows with no NaN in any of the arrays (listwise deletion)."""
    mask = None
    for a in arrays:
        a = np.asarray(a, dtype=float)
        ok = ~np.isnan(a) if a.ndim == 1 else ~np.isnan(a).any(axis=1)
        mask = ok if mask is None else mask & ok
    return mask


def level2_index(frame: pd.DataFrame, l2id: str) -> tuple[np.ndarray, np.ndarray]:
    """0-based level-2 unit index per row, and the unit identifiers in order."""
    ids = frame[l2id]
    if ids.isna().any():
        raise InputError(f"input 'L2ID' = {l2id!r}: the level-2 identifier has missing values; "
                         "every row needs a unit identifier")
    try:
        codes, uniques = pd.factorize(ids, sort=True)
    except TypeError:  # lists, dicts or sets as cells: unhashable, or not comparable for sorting
        bad = next((v for v in ids if not _hashable(v)), None)
        what = (f"holds {type(bad).__name__} values such as {short_repr(bad)}" if bad is not None
                else "mixes values that cannot be put in order (e.g. numbers and text)")
        raise InputError(f"input 'L2ID' = {l2id!r}: the level-2 identifier {what}; give a column "
                         "with one number or text label per row") from None
    if ids.dtype == object:  # 1 and "1" would otherwise be two units
        text = [v for v in uniques if isinstance(v, str)]
        number = [v for v in uniques if not isinstance(v, str)]
        if text and number:
            raise InputError(f"input 'L2ID' = {l2id!r}: the level-2 identifier mixes numbers and text "
                             f"(e.g. {short_repr(number[0])} and {short_repr(text[0])}), which would "
                             "count as different units; make the column all numbers or all text")
    return codes.astype(np.int32), np.asarray(uniques)


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
