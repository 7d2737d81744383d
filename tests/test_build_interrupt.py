"""Ctrl-C during a compile: prompt, and nothing misleading left behind.

A fake compiler stands in for g++: a shell script that, like the g++ driver
starting cc1plus, starts a child and waits for it, and records both process
ids, and notes when it runs to the end.  SIGINT is sent to this process's main thread only (as ``kill -INT
<pid>`` would), so the compilers are stopped by statjr-py, not by the signal.
The fake compilers sleep far longer than the bounds below, so a build that
waited for them, or left them running, fails the test.
"""
import logging
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from statjr_py import CompileError, build, kernel

SLEEP = 60  # the fake compile; every bound below is far shorter

FAKE_CXX = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "fake-c++ 1.0 for statjr-py tests"; exit 0; fi
sleep {sleep} &
echo $$ >> "{pids}"
echo $! >> "{pids}"
wait
echo "$$ ran to the end" >> "{pids}.finished"
"""

FAILING_CXX = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "failing-c++ 1.0 for statjr-py tests"; exit 0; fi
echo "fake.cpp:1:1: error: this compiler rejects everything" >&2
exit 1
"""


def _script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A private cache and a sleeping fake compiler; yields (cache, pids file)."""
    cache = tmp_path / "cache"
    pids = tmp_path / "pids"
    cxx = _script(tmp_path / "fake-c++", FAKE_CXX.format(sleep=SLEEP, pids=pids))
    monkeypatch.setenv("STATJR_CACHE", str(cache))
    monkeypatch.setenv("CXX", str(cxx))
    yield cache, pids
    for pid in _pids(pids):  # never leave a sleeper behind, whatever happened
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _pids(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except OSError:
        return False


def _interrupt_main_when(pids: Path, started: int) -> threading.Thread:
    """SIGINT to the main thread once ``started`` fake compiler processes run."""
    main = threading.main_thread().ident

    def go():
        deadline = time.monotonic() + 30
        while len(_pids(pids)) < 2 * started and time.monotonic() < deadline:
            time.sleep(0.02)
        signal.pthread_kill(main, signal.SIGINT)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


def _assert_clean(cache: Path, pids: Path, caplog) -> None:
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in _pids(pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in _pids(pids) if _alive(p)], "a compiler was left running"
    assert not Path(f"{pids}.finished").exists(), "the build waited for its compilers to finish"
    assert not (cache / "failed").exists(), "an interrupted compile was kept as a failure"
    assert not [p for p in cache.iterdir() if p.is_dir()], "a temporary build folder was left"
    assert not [p for p in cache.iterdir() if p.suffix not in (".lock",)], "a cache entry was written"
    logged = [r.getMessage() for r in caplog.records]
    assert not [m for m in logged if m.startswith("compiled")], logged


def test_ctrl_c_stops_the_compile_and_leaves_nothing(fake, caplog):
    cache, pids = fake
    caplog.set_level(logging.INFO, logger="statjr_py")
    _interrupt_main_when(pids, 1)
    with pytest.raises(KeyboardInterrupt):
        build.build("// interrupted, no kernel\nint x_interrupt_1;\n")
    _assert_clean(cache, pids, caplog)


def test_ctrl_c_stops_compiles_on_other_threads_and_the_kernel(fake, caplog):
    """The reviewer's case: the main thread compiles one model (and, on a pool
    thread, the kernel library) while another thread compiles a second model
    that needs the same kernel.  Ctrl-C must stop all of them: the other
    thread raises KeyboardInterrupt, not CompileError, and nobody compiles
    the kernel again."""
    cache, pids = fake
    caplog.set_level(logging.INFO, logger="statjr_py")
    beside: list[BaseException] = []

    def other():
        try:
            build.build('// the second model\n#include "statjr/impute.hpp"\nint x_interrupt_2;\n')
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            beside.append(exc)

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    # both wrappers and at least one kernel unit compiling
    _interrupt_main_when(pids, 3)
    with pytest.raises(KeyboardInterrupt):
        build.build('// the first model\n#include "statjr/impute.hpp"\nint x_interrupt_3;\n')
    thread.join(10)
    assert not thread.is_alive(), "the other thread's build went on after Ctrl-C"
    assert len(beside) == 1 and isinstance(beside[0], KeyboardInterrupt), beside
    _assert_clean(cache, pids, caplog)
    logged = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("compiling the kernel library") for m in logged) == 1, logged


def test_ctrl_c_stops_a_kernel_build(fake, tmp_path, caplog):
    cache, pids = fake
    caplog.set_level(logging.INFO, logger="statjr_py")
    tree = tmp_path / "cpp"
    (tree / "statjr").mkdir(parents=True)
    for unit in ("a", "b", "c"):
        (tree / "statjr" / f"{unit}.cpp").write_text("int f();\n")
    cache.mkdir()
    _interrupt_main_when(pids, 2)
    with pytest.raises(KeyboardInterrupt):
        kernel.compile_archive(tree, os.environ["CXX"], cache / "libstatjr-test.a", jobs=2)
    _assert_clean(cache, pids, caplog)


def test_after_an_interrupt_a_real_compile_error_is_reported_and_kept(fake, tmp_path, monkeypatch):
    """The interrupt does not outlive the build it stopped, and a compiler
    that really fails still gives CompileError, its output and failed/ copy."""
    cache, pids = fake
    _interrupt_main_when(pids, 1)
    with pytest.raises(KeyboardInterrupt):
        build.build("// interrupted first\nint x_interrupt_4;\n")
    monkeypatch.setenv("CXX", str(_script(tmp_path / "failing-c++", FAILING_CXX)))
    source = "// then a real failure\nint x_interrupt_5;\n"
    with pytest.raises(CompileError) as err:
        build.build(source)
    assert "rejects everything" in err.value.output
    kept = Path(err.value.source_path)
    assert kept.parent == cache / "failed" and kept.read_text() == source


def test_cancelling_the_chains_stops_a_compile_beside_them():
    # Ctrl-C while the main thread samples: a model compiling on another thread
    # (2LevelImpute's complete-case fit) must stop too, not run to the end.
    from statjr_py import kernel, run

    try:
        with kernel.interruptible():  # a build in progress elsewhere
            run.request_cancel()
            with pytest.raises(kernel.Interrupted):
                kernel.check_interrupted()
    finally:
        run._CANCEL[0] = 0
    with kernel.interruptible():  # the next build starts afresh
        kernel.check_interrupted()
