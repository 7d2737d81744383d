"""The named outputs of a run, and writing them out.

``Results`` is an ordered mapping from output name to object, exactly the
names TREE lists in its output pane, so that users and programs reach a
result by the name the documentation gives it.  Each entry also has a kind,
which decides its file format when saved.

Writing is whole or absent: :meth:`Results.save` fills a temporary sibling
folder and renames it into place only when every file is written, and
:meth:`Results.to_zip` does the same with a temporary file, so an error (a
full disk, a bad dataset, Ctrl-C) never leaves half a run, nor one run's files
mixed with another's, for a statistician to mistake for a result.
"""
from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import stat
import time
import unicodedata
import zipfile
from collections import OrderedDict
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd

from .csvout import frame_csv
from .errors import InputError, short_repr
from .stata import dta_bytes

log = logging.getLogger("statjr_py.results")

#: kind -> file extension used by save() and to_zip()
EXTENSIONS = {"table": ".csv", "dataset": ".dta", "svg": ".svg", "python": ".py",
              "cpp": ".cpp", "tex": ".tex", "text": ".txt"}
#: Kinds whose object must be a DataFrame (written as .csv or .dta).
FRAME_KINDS = {"table", "dataset"}
#: Written into every folder save() fills: which file holds which output, so a
#: later save knows the folder is an earlier run's and may replace it whole.
MANIFEST = ".statjr-manifest.json"
#: Files desktops drop into any folder a user opens; they never make it foreign.
DESKTOP_FILES = {".DS_Store", "Thumbs.db", "desktop.ini", ".directory"}
#: Output file names are kept well under every file system's 255-byte limit.
MAX_FILE_BYTES = 120

class SVG:
    """An SVG output, drawn the first time it is needed.

    ``str(svg)`` gives the SVG text (drawing it then, once); notebooks show it
    through ``_repr_svg_``.  A run lists its plots at once but pays for them
    only when a user looks or saves (:meth:`Results.render`).
    """

    __slots__ = ("_draw", "_text")

    def __init__(self, draw: "Callable[[], str] | str"):
        if isinstance(draw, str):
            self._draw, self._text = None, draw
        else:
            self._draw, self._text = draw, None

    @property
    def drawn(self) -> bool:
        return self._text is not None

    def __str__(self) -> str:
        if self._text is None:
            self._text = self._draw()
            self._draw = None
        return self._text

    def _repr_svg_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"<SVG {'drawn' if self.drawn else 'not drawn yet'}>"

    def __eq__(self, other) -> bool:
        return str(self) == str(other) if isinstance(other, (SVG, str)) else NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __getstate__(self):
        return (self._draw, self._text)

    def __setstate__(self, state):
        self._draw, self._text = state


class Results(OrderedDict):
    """Ordered mapping of output name -> DataFrame, str or :class:`SVG`.

    Tables are DataFrames, text outputs (C++, LaTeX, script.py) are str, and
    plots are :class:`SVG` objects, drawn when first needed: ``str(svg)``
    gives the SVG text (a notebook shows it).
    Use ``results['ModelResults']`` to reach an output, ``results.kind(name)``
    to learn how it is stored, ``save(folder)`` to write everything in its
    natural format and ``to_zip(path)`` for one bundle (TREE's Download).
    ``results[name] = value`` adds an output with its kind inferred.
    """

    def __init__(self):
        super().__init__()
        self._kinds: dict[str, str] = {}
        #: The monitored parameters behind ModelResults, with their kinds and
        #: levels (set by RunContext.standard_outputs; not an output).
        self.params: list = []
        #: The warnings the run raised, as text (shown by the CLI and the web page).
        self.warnings: list[str] = []
        #: The tables a notebook shows first (the template's headline).
        self.headline: tuple = ()
        #: Seconds spent compiling each model the run compiled (empty when all were built before).
        self.compile_seconds: dict[str, float] = {}

    def __setitem__(self, name: str, obj: Any) -> None:
        # Every output needs a kind, or save() cannot choose its format; keep
        # the recorded kind when the object still fits it (a dataset stays a
        # dataset, also when copy and pickle restore the kinds before the
        # items), otherwise infer one as add() does.
        _check_name(name)
        kinds = self.__dict__.setdefault("_kinds", {})
        kind = kinds.get(name)
        if kind is None or (kind in FRAME_KINDS) != isinstance(obj, pd.DataFrame):
            kind = _infer_kind(name, obj)
        super().__setitem__(name, obj)
        kinds[name] = kind

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        self._kinds.pop(name, None)

    def add(self, name: str, obj: Any, kind: str | None = None) -> None:
        """Add an output; the kind is inferred from the object and name if omitted."""
        _check_name(name)
        if kind is None:
            kind = _infer_kind(name, obj)
        if kind not in EXTENSIONS:
            raise ValueError(f"output {short_repr(name)}: unknown kind {kind!r}; use one of "
                             + ", ".join(EXTENSIONS))
        if kind in FRAME_KINDS and not isinstance(obj, pd.DataFrame):
            raise TypeError(f"output {short_repr(name)}: a {kind} must be a pandas DataFrame, not "
                            f"{type(obj).__name__}; pass a DataFrame or another kind")
        super().__setitem__(name, obj)
        self._kinds[name] = kind

    def kind(self, name: str) -> str:
        """How output ``name`` is stored: a key of :data:`EXTENSIONS`."""
        obj = self[name]
        return self.__dict__.get("_kinds", {}).get(name) or _infer_kind(name, obj)

    def filenames(self) -> dict[str, str]:
        """Output name -> file name: safe, and distinct even on case-blind disks.

        Names are cleaned (no separators, no leading dots, no reserved or
        over-long names) and, if two outputs would then share a file, the later
        one gets ``~2``, ``~3``... before its extension.
        """
        used: set[str] = {MANIFEST.casefold()}
        out = {}
        for name in self:
            stem, ext = _safe_stem(name, EXTENSIONS[self.kind(name)])
            candidate, n = stem + ext, 1
            while candidate.casefold() in used:
                n += 1
                candidate = f"{stem}~{n}{ext}"
            used.add(candidate.casefold())
            out[name] = candidate
        return out

    def filename(self, name: str) -> str:
        """The file that holds output ``name`` in a saved folder or zip."""
        return self.filenames()[name]

    def _bytes(self, name: str) -> bytes:
        obj, kind = self[name], self.kind(name)
        if kind == "table":
            return _utf8(frame_csv(obj))  # to_csv(index=False)'s text, faster
        if kind == "dataset":
            return dta_bytes(obj, f"output {short_repr(name)}")
        return _utf8(str(obj))

    def render(self) -> int:
        """Draw every pending plot now; returns how many were drawn.

        ``save`` and ``to_zip`` draw each as they write it.  They are drawn one after
        another: at about 30 ms each, 24 take 0.7 s, where starting worker
        processes (each importing numpy, pandas and scipy) took 5 s on the
        2-core machine the project is measured on (docs/performance.md).
        """
        pending = [obj for obj in OrderedDict.values(self) if isinstance(obj, SVG) and not obj.drawn]
        for obj in pending:
            str(obj)
        return len(pending)

    def save(self, folder, overwrite: bool = False,
             progress: Callable[[int, int], None] | None = None) -> list[Path]:
        """Write every output into ``folder``, whole or not at all.

        Parameters
        ----------
        folder : str or path
            Created if needed.  A folder holding an earlier ``save`` and
            nothing else is replaced whole, so no file of the earlier run stays
            behind to be mistaken for this one's.
        overwrite : bool
            Allow a folder holding other files: the outputs go among them, the
            earlier run's files are replaced and the rest are kept (they may be
            the user's data or manuscript, which no option should delete).
        progress : callable(done, total), optional
            Called after each file (plots are drawn as they are written).

        Returns
        -------
        list of Path
            One per output, in order (the manifest is not listed).

        Raises
        ------
        InputError
            The folder cannot be used or written (named, with the fix).  Other
            errors (a dataset that cannot be written) propagate as they are;
            either way nothing is left behind.
        """
        target = check_output_folder(folder, overwrite)
        files = self.filenames()
        shown = f"folder '{folder}'"
        if target.state == "foreign":
            for fname in files.values():
                spot = target.real / fname
                if spot.is_dir() and not spot.is_symlink():
                    raise InputError(f"{shown}: '{fname}' is a folder where the output "
                                     "file goes; rename or move it, or choose another folder")
        with _fs_errors(shown), _undo_on_error() as undo:
            undo.extend(_make_folders(target.real.parent))
            staging = _staging(target)
            undo.append(lambda: shutil.rmtree(staging))
            for done, (name, fname) in enumerate(files.items(), 1):
                (staging / fname).write_bytes(self._bytes(name))
                if progress is not None:
                    progress(done, len(files))
            (staging / MANIFEST).write_bytes(_manifest(files))
            _install(staging, target, files)
        # DEBUG, not INFO: the CLI prints this itself, and `statjr -v` showed it twice (issue #16)
        log.debug("%d outputs written to %s", len(files), target.real)
        return [Path(folder) / fname for fname in files.values()]

    def to_zip(self, path, overwrite: bool = False) -> Path:
        """Bundle every output into one zip file, complete or not at all.

        The zip is written to a temporary file beside ``path`` and renamed
        over it at the end, so a failure leaves the earlier zip (if any)
        untouched.  An existing file that is not a zip is refused unless
        ``overwrite`` is True: ``--zip data.csv`` must not eat the data.
        """
        real = check_zip_path(path, overwrite)
        files = self.filenames()
        shown = f"zip file '{path}'"
        with _fs_errors(shown), _undo_on_error() as undo:
            undo.extend(_make_folders(real.parent))
            tmp, handle = _temp_file(real.parent, real.name)
            undo.append(lambda: os.unlink(tmp))
            with handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as z:
                for name, fname in files.items():
                    z.writestr(fname, self._bytes(name))
            os.replace(tmp, real)
        return Path(path)

    def tables(self) -> Iterator[str]:
        return (n for n in self if self.kind(n) == "table")

    def imputed_datasets(self) -> list[pd.DataFrame]:
        """The M completed datasets of an ImputeModel or 2LevelImpute run, in order."""
        from .interop import imputed_datasets

        return imputed_datasets(self)

    def to_arviz(self, fit: str | None = None):
        """One fit's chains as an ArviZ InferenceData (see :func:`statjr_py.interop.to_arviz`)."""
        from .interop import to_arviz

        return to_arviz(self, fit)

    def _repr_html_(self) -> str:
        from .interop import results_html

        return results_html(self)

    def __repr__(self) -> str:
        lines = [f"Results with {len(self)} outputs:"]
        lines += [f"  {name} [{self.kind(name)}]" for name in self]
        return "\n".join(lines)


def _check_name(name: Any) -> None:
    if not isinstance(name, str):  # file names, the manifest and TREE's pane need text
        raise TypeError(f"output names are strings, not {type(name).__name__} ({short_repr(name)}); "
                        "give the output a name such as 'MyTable'")


def _infer_kind(name: str, obj: Any) -> str:
    if isinstance(obj, pd.DataFrame):
        return "table"
    if isinstance(obj, SVG):
        return "svg"
    for kind, ext in EXTENSIONS.items():
        if name.endswith(ext) and kind not in FRAME_KINDS:
            return kind
    return "text"


def _utf8(text: str) -> bytes:
    # Lone surrogates (from undecodable file names) would stop the save.
    return text.encode("utf-8", "backslashreplace")


# ------------------------------------------------------------------ file names
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|\ud800-\udfff]')
_WINDOWS_DEVICES = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?", re.I)


def _safe_stem(name: str, ext: str) -> tuple[str, str]:
    """A file name stem for ``name`` that is legal on Linux, macOS and Windows.

    Separators, control and Windows-reserved characters become ``_``; leading
    and trailing dots and spaces too (no hidden files, no ``..``); device
    names (``CON``, ``aux``) get a ``_`` in front; over-long names are cut and
    given a hash of the whole name so that two long names stay distinct.
    """
    text = unicodedata.normalize("NFC", _UNSAFE_CHARS.sub("_", name))
    if text.lower().endswith(ext):
        text = text[:-len(ext)]
    text = re.sub(r"^[.\s]+|[.\s]+$", lambda m: "_" * len(m.group()), text)
    if not text:
        text = "output"
    if _WINDOWS_DEVICES.fullmatch(text):
        text = "_" + text
    if len((text + ext).encode("utf-8")) > MAX_FILE_BYTES:
        digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        room = MAX_FILE_BYTES - len(ext) - len(digest) - 1
        text = text.encode("utf-8")[:room].decode("utf-8", "ignore") + "-" + digest
    return text, ext


# --------------------------------------------------------------- target folder
@dataclass
class OutputFolder:
    """Where save() writes; ``state`` is absent, empty, earlier (an earlier save
    and nothing else) or foreign (other files: allowed only with overwrite)."""

    real: Path
    state: str
    earlier: set[str] = field(default_factory=set)


#: The longest file or folder name file systems take: 255 bytes on Linux and
#: macOS (ext4, APFS), 255 characters on Windows (NTFS).
NAME_MAX = 255


def path_problem(path) -> tuple[str, str] | None:
    """(why, fix) when no file system can take ``path``, else None.

    A NUL character ends a path for the operating system (Python refuses it
    with ValueError), and a name longer than :data:`NAME_MAX` bytes fails with
    ENAMETOOLONG however deep the folders; both are the user's to fix, so
    callers turn them into an InputError naming the path.
    """
    text = os.fspath(path)
    text = os.fsdecode(text) if isinstance(text, bytes) else str(text)
    if "\x00" in text:
        return "contains a NUL character (\\x00)", "remove it from the path"
    for part in Path(text).parts:
        try:
            size = len(os.fsencode(part))
        except UnicodeError:  # a lone surrogate no file system name holds; counted as UTF-8
            size = len(part.encode("utf-8", "surrogatepass"))
        if size > NAME_MAX:
            return (f"the name {short_repr(part)} is {size} bytes long, longer than the "
                    f"{NAME_MAX} a file system allows", "choose a shorter name")
    return None


def shown_path(path) -> str:
    """A path quoted for a message: control characters escaped, a very long one shortened."""
    text = os.fspath(path)
    text = os.fsdecode(text) if isinstance(text, bytes) else str(text)
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return f"'{text}'" if len(text) <= 200 else f"'{text[:120]}...{text[-60:]}' ({len(text)} characters)"


@contextmanager
def _path_errors(bad):
    """OSError while inspecting a path (e.g. ENAMETOOLONG for a path over 4096 bytes) -> ``bad``."""
    try:
        yield
    except OSError as exc:
        long = exc.errno == errno.ENAMETOOLONG
        raise bad(f"cannot be used ({exc.strerror or exc})",
                  "choose a shorter path" if long else "choose another path") from None


def check_output_folder(folder, overwrite: bool = False, *, what: str = "folder",
                        hint: str = "pass overwrite=True") -> OutputFolder:
    """Check that ``folder`` can receive the outputs, or raise InputError saying why.

    The CLI calls this before sampling (``what='--out'``, ``hint='pass
    --overwrite'``), so that an unusable path costs seconds, not the run.
    """
    def bad(why: str, fix: str) -> InputError:
        return InputError(f"{what} {shown_path(folder)}: {why}; {fix}")

    if not os.fspath(folder):
        raise bad("empty", "give a folder path such as 'results'")
    if problem := path_problem(folder):
        raise bad(*problem)
    with _path_errors(bad):
        return _inspect_folder(folder, overwrite, bad, hint)


def _inspect_folder(folder, overwrite: bool, bad, hint: str) -> OutputFolder:
    path = Path(os.path.abspath(os.fspath(folder)))
    if path.parent == path:
        raise bad("the root folder cannot hold outputs", "give a folder below it")
    if path.is_symlink() and not path.exists():
        raise bad("is a symbolic link to nothing", "remove the link or choose another folder")
    real = Path(os.path.realpath(path))
    if real.exists() and not real.is_dir():
        raise bad("is a file, not a folder", "give a folder path (it is created if needed)")
    if not real.exists():
        _check_can_create(real, bad)
        return OutputFolder(real, "absent")
    if not os.access(real, os.W_OK | os.X_OK):
        raise bad("is not writable", "choose a folder you can write to")
    try:
        names = os.listdir(real)
    except OSError as exc:
        raise bad(f"cannot be read ({exc.strerror})", "choose another folder") from None
    listed = _read_manifest(real)
    foreign = sorted(n for n in names if n != MANIFEST and n not in DESKTOP_FILES
                     and not n.startswith("._")  # macOS resource forks
                     and (listed is None or n not in listed
                          or ((real / n).is_dir() and not (real / n).is_symlink())))
    if foreign and not overwrite:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        raise bad("holds files statjr-py did not write ("
                  + ", ".join(short_repr(n) for n in foreign[:3]) + more + ")",
                  f"choose a new or empty folder, or {hint} to write the outputs among them "
                  "(files of an earlier run are replaced, all others kept)")
    state = "foreign" if foreign else ("earlier" if listed is not None else "empty")
    return OutputFolder(real, state, listed or set())


def check_zip_path(path, overwrite: bool = False, *, what: str = "zip file",
                   hint: str = "pass overwrite=True") -> Path:
    """Check that a zip can be written at ``path``; return its resolved path."""
    def bad(why: str, fix: str) -> InputError:
        return InputError(f"{what} {shown_path(path)}: {why}; {fix}")

    if not os.fspath(path):
        raise bad("empty", "give a file name such as 'results.zip'")
    if problem := path_problem(path):
        raise bad(*problem)
    with _path_errors(bad):
        real = Path(os.path.realpath(os.path.abspath(os.fspath(path))))
        if real.is_dir():
            raise bad("is a folder", "give a file name such as 'results.zip'")
        if real.exists() and (not real.is_file() or not (overwrite or zipfile.is_zipfile(real))):
            raise bad("exists and is not a zip file", f"choose another name, or {hint} to replace it")
        _check_can_create(real, bad)
    return real


def _check_can_create(real: Path, bad) -> None:
    """The nearest existing ancestor of ``real`` is a folder we can write in."""
    ancestor = real.parent
    while not ancestor.exists() and ancestor.parent != ancestor:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise bad(f"'{ancestor}' is a file, not a folder", "choose a path that is not inside a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise bad(f"cannot write in '{ancestor}' (permission denied)",
                  "choose a folder you can write to")


def _read_manifest(folder: Path) -> set[str] | None:
    """The file names an earlier save() listed, or None when there is no usable manifest."""
    path = folder / MANIFEST
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 2**24:
            return None
        files = json.loads(path.read_text("utf-8"))["files"]
        names = set(files) if isinstance(files, (dict, list)) else {""}
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    plain = all(isinstance(n, str) and n and n not in (".", "..", MANIFEST)
                and not _UNSAFE_CHARS.search(n) for n in names)
    return names if plain else None


def _manifest(files: dict[str, str]) -> bytes:
    from ._version import __version__

    doc = {"statjr_py": __version__, "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "files": {fname: name for name, fname in files.items()}}
    return json.dumps(doc, indent=1).encode("ascii")


def _swappable(target: OutputFolder) -> bool:
    """Can the old folder be renamed away and the new one renamed into its place?

    Not when it holds other files, is (or holds) the working directory (the
    shell would be left in a deleted folder), is a mount point, or sits in a
    parent we cannot write to; then files are moved in one by one instead.
    """
    if target.state == "absent":
        return True
    real = str(target.real)
    try:
        holds_cwd = os.path.commonpath([os.path.realpath(os.getcwd()), real]) == real
    except (OSError, ValueError):  # no working directory; another drive
        holds_cwd = False
    return (target.state in ("empty", "earlier") and not holds_cwd
            and not os.path.ismount(real) and os.access(target.real.parent, os.W_OK | os.X_OK))


def _make_folders(folder: Path) -> list:
    """mkdir -p, returning undo steps that remove what it made (if still empty)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    undo = []
    for made in reversed(missing):
        made.mkdir()
        undo.append(lambda made=made: os.rmdir(made))
    return undo


def _new_name(parent: Path, base: str, make) -> tuple[Path, Any]:
    # Hidden, unpredictable names beside the target, never clashing with its files.
    for _ in range(100):
        path = parent / f".{base[:40]}.statjr-tmp-{secrets.token_hex(4)}"
        try:
            return path, make(path)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "could not choose a temporary name", str(parent))


def _staging(target: OutputFolder) -> Path:
    # Beside the target when it is swapped in, inside it when files are moved
    # in one by one: the same file system either way, so each rename is atomic.
    parent = target.real.parent if _swappable(target) else target.real
    return _new_name(parent, target.real.name, os.mkdir)[0]


def _temp_file(parent: Path, base: str):
    # os.open with 0o666 honours the umask, unlike mkstemp's 0o600.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    path, fd = _new_name(parent, base, lambda p: os.open(p, flags, 0o666))
    return path, os.fdopen(fd, "wb")


def _install(staging: Path, target: OutputFolder, files: dict[str, str]) -> None:
    """Put the finished outputs in place: rename the folder, or move files in."""
    real = target.real
    if target.state == "absent":
        os.rename(staging, real)
        return
    if staging.parent == real.parent:
        # Look again: files may have appeared while the outputs were written.
        check_output_folder(real)
        with suppress(OSError):  # keep the folder's permissions, e.g. group-readable
            os.chmod(staging, stat.S_IMODE(os.stat(real).st_mode))
        aside = _new_name(real.parent, real.name, lambda p: os.rename(real, p))[0]
        try:
            os.rename(staging, real)
        except OSError:
            os.rename(aside, real)
            raise
        shutil.rmtree(aside, ignore_errors=True)
        return
    # Move in one by one: os.replace swaps a symbolic link itself, never its target.
    for fname in files.values():
        os.replace(staging / fname, real / fname)
    new = {f.casefold() for f in files.values()}
    for stale in target.earlier:
        spot = real / stale
        if stale.casefold() not in new and (spot.is_symlink() or spot.is_file()):
            with suppress(OSError):
                os.unlink(spot)
    os.replace(staging / MANIFEST, real / MANIFEST)
    os.rmdir(staging)


@contextmanager
def _undo_on_error():
    """Yield a list of undo steps; on any error (Ctrl-C too) run them, last first."""
    steps: list = []
    try:
        yield steps
    except BaseException:
        for step in reversed(steps):
            with suppress(OSError):
                step()
        raise


_USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR,
                errno.EISDIR, errno.EEXIST, errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTEMPTY}


@contextmanager
def _fs_errors(shown: str):
    """OSError while writing -> one sentence naming the target: an InputError for
    path and permission problems (the user's to fix), an OSError for the rest."""
    try:
        yield
    except InputError:
        raise
    except OSError as exc:
        why = exc.strerror or str(exc)
        if exc.errno in _USER_ERRNOS:
            raise InputError(f"{shown}: could not write the outputs ({why}); nothing was "
                             "written; choose a folder you can write to") from exc
        raise OSError(exc.errno, f"{shown}: could not write the outputs ({why}); nothing was "
                      "written; free some space or choose another place") from exc


def table_text(frame: pd.DataFrame) -> str:
    """A results table as aligned text for the terminal.

    Counts (ESS, cases, df) print as whole numbers, everything else with four
    significant digits, which is as much as Monte Carlo error supports.
    """
    counts = {"ess_bulk", "ess_tail", "n", "cases", "df", "n_cases"}
    formatters = {c: (lambda v: f"{v:.0f}" if pd.notna(v) else "") for c in frame.columns if c in counts}
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        return frame.to_string(index=False, formatters=formatters,
                               float_format=lambda v: f"{v:.4g}")
