"""The kernel library: shared C++ compiled once per installation, not per model.

Most of a generated sampler is its template's thin wrapper around shared C++
in ``cpp/statjr/``.  Header-only code is compiled again into every module
that includes it, which is fine for short headers and costly for long ones:
ImputeModel's steps took about 4 s of g++ ``-O2`` for each new imputation
model, and the Normal two-level model's about 1 s for each model of
interest, although neither depends on the model's structure (sizes are
data).  So the long parts live in ``cpp/statjr/*.cpp`` files,
their header declares them, and this module compiles every such file once
into a static archive, ``libstatjr-<key>.a``, that modules link against.

A module links the archive when its source includes, directly or through
another shared header, a header that declares kernel code: ``statjr/X.hpp``
for which ``statjr/X.cpp`` or ``statjr/X_*.cpp`` exists.  The linker takes
only the archive members a module uses.

The key is a content hash of every ``.hpp`` and ``.cpp`` under ``cpp/``,
the compiler's version and the flags, so an archive can never be reused
with different sources or a different compiler.  ``pip install`` builds the
archive into the package (``setup.py`` calls :func:`prebuild`); otherwise,
or when the compiler differs from the one used at install, the first
module that needs it builds it into the compile cache.  Its translation
units compile in parallel.

This module imports only the standard library, so that ``setup.py`` can
load it before any dependency is installed.

Compilers run through :func:`run_tool`, so that Ctrl-C stops a build
promptly: see :func:`interruptible`.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

log = logging.getLogger("statjr_py.kernel")

#: The one statement of the compiler flags, for the kernel and for every module.
CXXFLAGS = ["-O2", "-std=c++17", "-fPIC", "-Wall", "-Wno-unused-function",
            "-Wno-unused-variable", "-Wno-unused-but-set-variable"]

_INCLUDE = re.compile(r'^\s*#\s*include\s*["<]statjr/([A-Za-z0-9_]+)\.hpp[">]', re.M)


def sources(cpp_root: Path) -> list[Path]:
    """The kernel's translation units: every ``cpp/statjr/*.cpp``."""
    return sorted((Path(cpp_root) / "statjr").glob("*.cpp"))


def needs_kernel(source: str, cpp_root: Path) -> bool:
    """Whether ``source`` includes, directly or through other shared headers, a
    header whose code is in the kernel."""
    root = Path(cpp_root) / "statjr"
    stems = {p.stem for p in sources(cpp_root)}
    seen: set[str] = set()
    todo = _INCLUDE.findall(source)
    while todo:
        header = todo.pop()
        if header in seen:
            continue
        seen.add(header)
        if header in stems or any(s.startswith(header + "_") for s in stems):
            return True
        path = root / f"{header}.hpp"
        if path.is_file():
            todo.extend(_INCLUDE.findall(path.read_text()))
    return False


def digest(cpp_root: Path) -> str:
    """A hash of every shared header and kernel source (names and bytes)."""
    root = Path(cpp_root)
    h = hashlib.sha256()
    for path in sorted([*root.rglob("*.hpp"), *root.rglob("*.cpp")]):
        h.update(str(path.relative_to(root)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def compiler_version(cxx: str) -> str:
    """The first line of ``cxx --version`` (names the compiler and its release)."""
    out = subprocess.run([cxx, "--version"], capture_output=True, text=True)
    return out.stdout.splitlines()[0] if out.stdout else cxx


def key(cpp_root: Path, cxx_version: str) -> str:
    """The archive's content key: sources, compiler, flags and machine."""
    h = hashlib.sha256()
    for part in (digest(cpp_root), cxx_version, " ".join(CXXFLAGS), platform.machine()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def archive_name(k: str) -> str:
    return f"libstatjr-{k}.a"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checksum_ok(path: Path, meta: Path) -> bool:
    """``path`` exists and matches the SHA-256 its JSON sidecar ``meta`` records
    (how the cache tells a finished build from a corrupt or partial one)."""
    if not (path.is_file() and meta.is_file()):
        return False
    try:
        return json.loads(meta.read_text())["sha256"] == sha256(path)
    except (OSError, ValueError, KeyError):
        return False


def archive_ok(archive: Path) -> bool:
    """The archive exists and matches the checksum written beside it."""
    return checksum_ok(archive, archive.with_suffix(".json"))


class Interrupted(KeyboardInterrupt):
    """A build stopped by Ctrl-C, perhaps in another thread's build: the
    killed compiler's exit says nothing about the code, so this is no
    compile error (nothing is kept in ``failed/``), and it goes up as the
    ``KeyboardInterrupt`` it is."""


# Ctrl-C reaches only the main thread, but a build runs compilers on other
# threads too (the kernel's units, a second model compiled beside the first),
# and a pool joined by the main thread would wait for them to finish.  So
# every compiler is registered here while it runs, and an interrupt stops
# them all and refuses new ones until every interrupted build has unwound.
_tools_lock = threading.Lock()
_tools: set[subprocess.Popen] = set()
_stopped = threading.Event()
_builds = [0]  # builds in progress (nested scopes counted too)


@contextlib.contextmanager
def interruptible():
    """The scope of a build: ``KeyboardInterrupt`` inside it stops every build
    in this process (:func:`interrupt`) before going on up.

    Wrap each place that waits for compilers, innermost: in particular the
    body of a ``with ThreadPoolExecutor(...)``, whose exit joins the pool
    and so must come after the pool's compilers were stopped.  The first
    scope entered with no build in progress clears an earlier interrupt.
    """
    with _tools_lock:
        if _builds[0] == 0:
            _stopped.clear()
        _builds[0] += 1
    try:
        yield
    except KeyboardInterrupt:
        interrupt()
        raise
    finally:
        with _tools_lock:
            _builds[0] -= 1


def interrupt() -> None:
    """Stop every compiler this process is running and refuse new ones until
    the builds in progress have ended (each then raises :class:`Interrupted`)."""
    with _tools_lock:
        _stopped.set()
        running = list(_tools)
    for proc in running:
        _kill(proc, signal.SIGTERM)  # lets the g++ driver remove its temporary files


def check_interrupted() -> None:
    """Raise :class:`Interrupted` if the builds in progress were interrupted."""
    if _stopped.is_set():
        raise Interrupted("the build was interrupted")


def pause(seconds: float) -> None:
    """Sleep, but raise :class:`Interrupted` as soon as the build is interrupted."""
    if _stopped.wait(seconds):
        check_interrupted()


def _kill(proc: subprocess.Popen, sig: int) -> None:
    """Send ``sig`` to ``proc``'s process group (the compiler driver and the
    cc1plus and as it started), or kill ``proc`` where there are no groups."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(OSError):
        if os.name == "posix":
            os.killpg(proc.pid, sig)
        else:  # pragma: no cover
            proc.kill()


def run_tool(cmd: list[str]) -> subprocess.CompletedProcess:
    """Run a compiler or archiver, capturing its output; stoppable by Ctrl-C.

    The tool runs in a process group of its own, so a terminal's Ctrl-C
    reaches Python only, whose interrupt stops the whole group, whichever
    thread started it: there is one way a compile ends early, and it never
    looks like a compile error.

    Raises
    ------
    Interrupted
        When the build was interrupted before or while the tool ran.
    """
    with _tools_lock:
        check_interrupted()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=os.name == "posix")
        _tools.add(proc)
    with proc:
        try:
            out, err = proc.communicate()
        except KeyboardInterrupt:  # the main thread's own compile
            interrupt()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _kill(proc, signal.SIGKILL)
                proc.wait()
            raise
        finally:
            with _tools_lock:
                _tools.discard(proc)
    check_interrupted()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


class KernelBuildError(RuntimeError):
    """The kernel did not compile; ``output`` holds the compiler's words."""

    def __init__(self, message: str, output: str):
        super().__init__(message)
        self.output = output


def compile_archive(cpp_root: Path, cxx: str, archive: Path, jobs: int | None = None) -> dict:
    """Compile the kernel into ``archive`` (atomically) and return seconds per unit.

    The translation units compile in parallel, ``jobs`` at a time (default:
    the number of cores).  The archive and its checksum are written under
    temporary names and moved into place, so a reader never sees half a file.

    Raises
    ------
    KernelBuildError
        When a unit does not compile or ``ar`` fails, with the output.
    Interrupted
        On Ctrl-C (here or in another build); the units' compilers are
        stopped and nothing is left behind.
    """
    archive = Path(archive)
    archive.parent.mkdir(parents=True, exist_ok=True)
    units = sources(cpp_root)
    ar_name = os.environ.get("AR", "ar")
    ar = shutil.which(ar_name)
    if not ar:
        raise KernelBuildError(f"no '{ar_name}' found to archive the kernel; install binutils "
                               "(it comes with g++) or set AR to an archiver", "")
    # the work folder sits beside the archive so that the finished file can be
    # moved into place atomically; a killed build's folder is removed by the
    # next build (remove_stale here at install, build._remove_stale in the cache)
    work = Path(tempfile.mkdtemp(prefix=archive.stem + ".", dir=archive.parent))
    try:
        def one(src: Path) -> tuple[str, float, subprocess.CompletedProcess]:
            started = time.monotonic()
            proc = run_tool([cxx, *CXXFLAGS, f"-I{cpp_root}", "-c", str(src),
                             "-o", str(work / (src.stem + ".o"))])
            return src.name, time.monotonic() - started, proc

        jobs = max(1, min(len(units), jobs or os.cpu_count() or 1))
        with ThreadPoolExecutor(jobs) as pool, interruptible():  # stopped before it is joined
            results = list(pool.map(one, units))
        failed = [(name, proc) for name, _, proc in results if proc.returncode != 0]
        if failed:
            raise KernelBuildError(f"the kernel's {failed[0][0]} did not compile",
                                   "".join(p.stdout + p.stderr for _, p in failed))
        tmp = work / archive.name
        proc = run_tool([ar, "rcs", str(tmp), *(str(work / (u.stem + ".o")) for u in units)])
        if proc.returncode != 0:
            raise KernelBuildError("ar could not archive the kernel", proc.stdout + proc.stderr)
        seconds = {name: round(s, 2) for name, s, _ in results}
        meta = work / "meta.json"
        meta.write_text(json.dumps({"sha256": sha256(tmp), "seconds": seconds}))
        os.replace(tmp, archive)
        os.replace(meta, archive.with_suffix(".json"))
        for name, s in seconds.items():
            log.info("compiled kernel unit %s in %.2f s", name, s)
        return seconds
    finally:
        shutil.rmtree(work, ignore_errors=True)


def remove_stale(folder: Path, keep: str | None = None) -> None:
    """Remove kernel builds in the install folder ``folder`` other than archive
    ``keep`` (its ``.a`` and ``.json``): other keys' archives and the work
    folders of killed builds; lock files are left, since another process may
    be waiting on one.  (The compile cache's are build.py's to clean.)"""
    for entry in Path(folder).glob("libstatjr-*"):
        if entry.suffix == ".lock" or (keep and entry.name in (keep, Path(keep).stem + ".json")):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink()
        except OSError:
            continue


def prebuild(cpp_root: Path, out_dir: Path) -> Path | None:
    """Build the kernel into ``out_dir`` at install time (``setup.py``).

    ``cpp_root`` must be the copy of ``cpp/`` that is installed, so that the
    key computed here is the one computed at run time.  ``out_dir`` is left
    holding this build's archive and nothing else (an earlier build's
    archives or a killed build's folder would otherwise be installed too);
    an archive already there with this key is kept, not rebuilt.

    Returns the archive, or None when no compiler is found or the kernel
    does not compile; the install goes on and the first run builds the
    kernel into the compile cache instead, where a failure is a
    ``CompileError`` with the compiler's output.
    """
    out_dir = Path(out_dir)
    cxx = shutil.which(os.environ.get("CXX", "g++"))
    if not cxx:
        remove_stale(out_dir)
        log.warning("statjr-py: no C++ compiler at install time; the kernel will be "
                    "compiled on first use")
        return None
    archive = out_dir / archive_name(key(cpp_root, compiler_version(cxx)))
    remove_stale(out_dir, keep=archive.name)
    if archive_ok(archive):
        return archive
    try:
        compile_archive(Path(cpp_root).resolve(), cxx, archive)
    except KernelBuildError as exc:
        remove_stale(out_dir)
        log.warning("statjr-py: the kernel did not compile at install time (%s); it will "
                    "be compiled on first use:\n%s", exc, exc.output)
        return None
    return archive
