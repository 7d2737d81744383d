"""Compile, cache and load generated C++ through cffi.

The module name is a content hash (as cffi's own ``verify`` did) of
everything that can change the binary: the rendered source, the shared
headers it includes, the compiler and its flags, and the Python, cffi and
statjr-py versions.  Never file times: a cache keyed on mtimes goes stale
silently.  A built module is written to a private temporary name and moved
into place with ``os.replace``, so two processes building the same model at
once never see half a file; a SHA-256 sidecar detects a corrupt entry, which
is rebuilt.

cffi's "API mode" is used: calls into C release the GIL, so chains can run
on Python threads in parallel.

Ctrl-C during a build stops every compiler the process is running, on any
thread, and leaves nothing behind: no entry, no ``failed/`` copy (that is
for real compile errors), no temporary folder (kernel.interruptible says how).
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import platform
import shutil
import sys
import sysconfig
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager

from . import kernel
from ._version import __version__
from .errors import CompileError, InputError

try:  # POSIX; elsewhere the cache works without the cross-process lock
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None
from .paths import bundled

log = logging.getLogger("statjr_py.build")

#: The C interface every sampler exports (cpp/statjr/entry.hpp defines it).
CDEF = """
void *sjr_create(const void *const *arrays, const int64_t *lengths, uint64_t seed,
                 char *err, int errlen);
int sjr_nparams(void);
long sjr_sample(void *p, long niter, long thin, int adapt, double *out,
                const volatile int32_t *cancel);
long sjr_call(void *p, const char *what, const double *in, long nin, double *out, long nout);
const char *sjr_error(void *p);
void sjr_free(void *p);
"""

#: The compiler flags (one statement, shared with the kernel library).
CXXFLAGS = kernel.CXXFLAGS

_lock = threading.Lock()
_loaded: dict[str, object] = {}
_building: dict[str, threading.Lock] = {}
_stats = {"compiles": 0, "kernels": 0}
_kernels_used: set[str] = set()  # kernel libraries this process linked: never pruned


def compile_count() -> int:
    """How many modules this process has compiled (not loaded from cache)."""
    return _stats["compiles"]


def cache_dir() -> Path:
    """The compile cache: ``STATJR_CACHE`` or the user's cache folder.

    Raises
    ------
    InputError
        When the folder cannot be created or written (a file of that name, a
        read-only place), naming the setting to change.
    """
    env = os.environ.get("STATJR_CACHE")
    if env:
        path = Path(env)
        what = f"STATJR_CACHE = {env!r}"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = Path(base) / "statjr-py"
        what = f"the compile cache {str(path)!r}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"{what}: cannot be used as the compile cache ({exc.strerror or exc}); "
                         "set STATJR_CACHE to a folder you can write to") from None
    return path


@contextlib.contextmanager
def _file_lock(path: Path):
    """An exclusive lock shared by every process using this cache (POSIX flock).

    Two processes that need the same model at once then compile it once: the
    second waits, finds the finished entry and loads it.  The wait polls, so
    that a thread waiting here stops when the build is interrupted (a build
    that waited would otherwise start compiling after Ctrl-C).
    """
    try:
        handle = open(path, "a")
    except OSError as exc:
        raise InputError(f"the compile cache {str(path.parent)!r}: its lock file {path.name} cannot "
                         f"be opened ({exc.strerror or exc}); remove it, or set STATJR_CACHE to "
                         "another folder") from None
    with handle:
        while fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                kernel.pause(0.05)
        try:
            kernel.check_interrupted()
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


#: Cache pruning: keep at most this many modules (``STATJR_CACHE_KEEP``) and
#: drop those unused for this many days (``STATJR_CACHE_DAYS``).  A module's
#: last use is its ``.json`` sidecar's modification time, touched on every load.
CACHE_KEEP = 200
CACHE_DAYS = 90


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{name} = {raw!r}: not a number; give e.g. {default:g}") from None
    if value < 0:
        raise InputError(f"{name} = {raw!r}: must be >= 0; give e.g. {default:g}")
    return value


def prune_cache(root: Path | None = None, keep: int | None = None,
                days: float | None = None) -> list[str]:
    """Remove cached modules beyond the newest ``keep`` or unused for ``days``,
    and kernel libraries unused for ``days`` (an upgrade leaves the old one).

    Modules loaded by this process are never removed.  Returns the names
    removed.  Called after each compile, so the cache stays bounded without
    the user thinking about it.
    """
    root = cache_dir() if root is None else root
    keep = int(_env_number("STATJR_CACHE_KEEP", CACHE_KEEP)) if keep is None else keep
    days = _env_number("STATJR_CACHE_DAYS", CACHE_DAYS) if days is None else days
    entries = []
    for meta in root.glob("_sjr_*.json"):
        try:
            entries.append((meta.stat().st_mtime, meta.stem))
        except OSError:
            continue
    entries.sort(reverse=True)
    cutoff = time.time() - days * 86400
    removed = []
    for rank, (used, name) in enumerate(entries):
        if name in _loaded or (rank < keep and used >= cutoff):
            continue
        for path in root.glob(name + "*"):
            if path.is_file() and not path.is_symlink():
                with contextlib.suppress(OSError):
                    path.unlink()
        removed.append(name)
    for meta in root.glob("libstatjr-*.json"):  # kernel_archive touches its sidecar on use
        with contextlib.suppress(OSError):
            if meta.stem not in _kernels_used and meta.stat().st_mtime < cutoff:
                for path in root.glob(meta.stem + ".*"):  # not its lock: another process may wait on it
                    if path.is_file() and not path.is_symlink() and path.suffix != ".lock":
                        path.unlink()
                removed.append(meta.stem)
    if removed:
        log.info("pruned %d cached modules", len(removed))
    return removed


#: Temporary build folders older than this are left by killed compiles.
STALE_SECONDS = 24 * 3600


def _remove_stale(root: Path, name: str) -> None:
    """Remove what killed compiles left: this model's (or kernel's) build
    folders (we hold its lock, so nobody else is using them) and any build
    folder a day old."""
    now = time.time()
    for entry in [*root.glob("_sjr_*.*"), *root.glob("libstatjr-*.*")]:
        if not entry.is_dir() or entry.is_symlink():
            continue
        try:
            stale = entry.name.startswith(name + ".") or now - entry.stat().st_mtime > STALE_SECONDS
        except OSError:
            continue
        if stale:
            shutil.rmtree(entry, ignore_errors=True)


def _compiler() -> str:
    cxx = os.environ.get("CXX", "g++")
    found = shutil.which(cxx)
    if not found:
        raise CompileError(f"no C++ compiler found ('{cxx}' is not on PATH); install g++ "
                           "(Debian/Ubuntu: apt-get install g++) or set CXX to a C++17 compiler")
    return found


_version_cache: dict[str, str] = {}


def _compiler_version(cxx: str) -> str:
    if cxx not in _version_cache:
        _version_cache[cxx] = kernel.compiler_version(cxx)
    return _version_cache[cxx]


def _headers_digest() -> str:
    """Every shared header and kernel source: a module built against them embeds them."""
    return kernel.digest(bundled("cpp"))


def kernel_archive() -> Path:
    """The kernel library for this compiler: the one built at install, or the cache's.

    Built into the compile cache on first need, under a file lock, so
    concurrent processes compile it once (statjr_py/kernel.py says why it
    exists).

    Raises
    ------
    CompileError
        When the kernel does not compile, with the compiler's output.
    """
    cxx = _compiler()
    name = kernel.archive_name(kernel.key(bundled("cpp"), _compiler_version(cxx)))
    installed = bundled("kernel") / name
    if kernel.archive_ok(installed):
        return installed
    root = cache_dir()
    archive = root / name
    with _lock:
        _kernels_used.add(archive.stem)
    with kernel.interruptible(), _file_lock(root / (archive.stem + ".lock")):
        if not kernel.archive_ok(archive):
            if archive.exists():
                log.warning("cache entry %s is corrupt or incomplete; rebuilding", archive.name)
            _remove_stale(root, archive.stem)
            log.info("compiling the kernel library %s", name)
            try:
                kernel.compile_archive(bundled("cpp"), cxx, archive)
            except kernel.KernelBuildError as exc:
                raise CompileError(f"{exc} (statjr-py's shared C++ in {bundled('cpp')})",
                                   output=exc.output) from None
            with _lock:
                _stats["kernels"] += 1
        with contextlib.suppress(OSError):
            os.utime(archive.with_suffix(".json"))  # last use, for pruning
    return archive


def module_name(source: str) -> str:
    """The content-hash module name for ``source`` with this toolchain."""
    import cffi  # here, not at import: commands that build nothing skip it

    cxx = _compiler()
    h = hashlib.sha256()
    for part in (source, CDEF, " ".join(CXXFLAGS), _compiler_version(cxx), _headers_digest(),
                 sys.version, platform.machine(), cffi.__version__, __version__):
        h.update(part.encode())
        h.update(b"\0")
    return "_sjr_" + h.hexdigest()[:24]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _entry_ok(so: Path, meta: Path) -> bool:
    return kernel.checksum_ok(so, meta)


def _compile(name: str, source: str, root: Path, so: Path, meta: Path) -> None:
    import cffi
    from cffi.recompiler import make_c_source

    cxx = _compiler()
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    work = Path(tempfile.mkdtemp(prefix=name + ".", dir=root))
    try:
        cpp = work / f"{name}.cpp"
        make_c_source(ffi, name, source, str(cpp), verbose=False)
        out = work / so.name
        flags = [*CXXFLAGS, f"-I{bundled('cpp')}", f"-I{sysconfig.get_paths()['include']}"]
        shared = ["-shared"] + (["-undefined", "dynamic_lookup"] if sys.platform == "darwin" else [])
        started = time.monotonic()
        if kernel.needs_kernel(source, bundled("cpp")):
            # The wrapper compiles while the kernel is found or built, then both
            # link.  Ctrl-C stops the kernel's compile before the pool is joined.
            with ThreadPoolExecutor(1) as pool, kernel.interruptible():
                archive = pool.submit(kernel_archive)
                obj = work / f"{name}.o"
                cmd = [cxx, *flags, "-c", str(cpp), "-o", str(obj)]
                log.info("compiling %s", name)
                proc = kernel.run_tool(cmd)
                lib = archive.result()
            if proc.returncode == 0:
                link = [cxx, *shared, str(obj), str(lib), "-o", str(out)]
                proc = kernel.run_tool(link)
                cmd = [cmd, link]
        else:
            cmd = [cxx, *flags, *shared, str(cpp), "-o", str(out)]
            log.info("compiling %s", name)
            proc = kernel.run_tool(cmd)
        if proc.returncode != 0:
            kept = root / "failed" / f"{name}.cpp"
            try:
                kept.parent.mkdir(exist_ok=True)
                kept.write_text(source)
            except OSError:  # keep the compiler's words even if the source cannot be kept
                kept = work / f"{name}.cpp"
            raise CompileError(f"the generated C++ for {name} did not compile",
                               output=proc.stdout + proc.stderr, source_path=str(kept))
        log.info("compiled %s in %.2f s", name, time.monotonic() - started)
        with _lock:
            _stats["compiles"] += 1
        tmp_meta = work / "meta.json"
        tmp_meta.write_text(json.dumps({"sha256": kernel.sha256(out), "command": cmd}))
        os.replace(out, so)  # atomic: readers see the old entry or the new one
        os.replace(tmp_meta, meta)
        (root / f"{name}.cpp").write_text(source)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Module:
    """A loaded sampler: its cffi ``ffi`` and ``lib`` and the source it came from."""

    name: str
    ffi: object
    lib: object
    source: str


def build(source: str, while_compiling: Callable[[], ContextManager] | None = None) -> Module:
    """Compile ``source`` (or reuse the cached build) and load it.

    Different models build concurrently; the same model is built once, by
    one thread of one process, whoever asks for it.  ``while_compiling``,
    if given, makes a context manager entered while the model has no cache
    entry yet, that is while it compiles or this thread waits for its
    compile (a run's progress names the model and times it).

    Raises
    ------
    CompileError
        When the source does not compile, with the compiler's output.
    KeyboardInterrupt
        On Ctrl-C, after every compile this process was running has stopped
        (``kernel.Interrupted`` in the other threads that were building).
    """
    with kernel.interruptible():
        return _build(source, while_compiling or contextlib.nullcontext)


def _build(source: str, while_compiling: Callable[[], ContextManager]) -> Module:
    name = module_name(source)
    with _lock:
        if name in _loaded:
            return _loaded[name]
        own = _building.setdefault(name, threading.Lock())
    root = cache_dir()
    so = root / (name + sysconfig.get_config_var("EXT_SUFFIX"))
    meta = root / (name + ".json")
    # No entry yet: a compile, this thread's or one it waits for (another thread's or process's).
    with (contextlib.nullcontext() if so.is_file() else while_compiling()), own:
        if name in _loaded:
            return _loaded[name]
        compiled = False
        with _file_lock(root / (name + ".lock")):
            if not _entry_ok(so, meta):
                if so.exists():
                    log.warning("cache entry %s is corrupt or incomplete; rebuilding", so.name)
                _remove_stale(root, name)
                _compile(name, source, root, so, meta)
                compiled = True
            with contextlib.suppress(OSError):
                os.utime(meta)  # last use, for pruning
        try:
            mod = _load(name, so)
        except ImportError as exc:
            if "undefined symbol" in str(exc):
                # linked without the kernel library: rebuilding would give the same module
                for path in (so, meta):
                    with contextlib.suppress(OSError):
                        path.unlink()
                raise CompileError(f"the compiled module {so.name} could not be loaded ({exc}); it "
                                   "uses code that was never linked: a function declared but not "
                                   "defined, or a kernel header the build did not see (include "
                                   'statjr headers as #include "statjr/NAME.hpp"); the module was '
                                   "removed from the cache") from None
            raise CompileError(f"the compiled module {so} could not be loaded ({exc}); "
                               "delete it to force a rebuild") from None
        with _lock:
            _loaded[name] = Module(name, mod.ffi, mod.lib, source)
        if compiled:
            prune_cache(root)
        return _loaded[name]


def forget_loaded() -> None:
    """Drop the in-process module table (tests use it to exercise the disk cache)."""
    with _lock:
        _loaded.clear()
