"""The kernel library: shared C++ compiled once, linked into the modules that use it."""
import shutil
from pathlib import Path

import pytest

from statjr_py import CompileError, build, kernel
from statjr_py.paths import bundled

CPP = bundled("cpp")


def test_only_modules_that_include_a_kernel_header_link_it():
    assert kernel.needs_kernel('#include "statjr/impute.hpp"\nstruct Model {};', CPP)
    assert kernel.needs_kernel('#include "statjr/smc.hpp"', CPP)  # through smc.hpp's include of twolevel.hpp
    assert not kernel.needs_kernel('#include "statjr/glm.hpp"\n#include "statjr/entry.hpp"', CPP)
    assert kernel.needs_kernel("#include <statjr/twolevel.hpp>", CPP)  # either include form
    # a header named like a kernel unit's prefix, but not a kernel header, does not count
    assert not kernel.needs_kernel('#include "statjr/imp.hpp"', CPP)


def test_key_follows_every_source_and_the_compiler(tmp_path):
    tree = tmp_path / "cpp"
    shutil.copytree(CPP, tree)
    before = kernel.key(tree, "g++ 12.2.0")
    assert kernel.key(tree, "g++ 12.2.0") == before
    assert kernel.key(tree, "g++ 13.1.0") != before
    unit = tree / "statjr" / "impute_level2.cpp"
    unit.write_text(unit.read_text() + "\n// one more line\n")
    assert kernel.key(tree, "g++ 12.2.0") != before
    # a change to a kernel source also renames every module, which embeds the kernel
    assert kernel.digest(tree) != kernel.digest(CPP)


def test_archive_built_at_install_is_used_without_compiling(tmp_path, monkeypatch):
    cached = build.kernel_archive()  # the cache's (or the install's) archive
    installed = tmp_path / "kernel"
    installed.mkdir()
    shutil.copy(cached, installed / cached.name)
    shutil.copy(cached.with_suffix(".json"), installed / (cached.stem + ".json"))
    real = build.bundled
    monkeypatch.setattr(build, "bundled", lambda kind: installed if kind == "kernel" else real(kind))
    before = build._stats["kernels"]
    assert build.kernel_archive() == installed / cached.name
    assert build._stats["kernels"] == before


def test_corrupt_archive_is_not_trusted(tmp_path):
    archive = tmp_path / "libstatjr-0.a"
    archive.write_bytes(b"!<arch>\nnot really")
    archive.with_suffix(".json").write_text('{"sha256": "0"}')
    assert not kernel.archive_ok(archive)
    archive.with_suffix(".json").write_text("not json")
    assert not kernel.archive_ok(archive)


def test_broken_kernel_source_gives_compile_error_with_compiler_text(tmp_path, monkeypatch):
    tree = tmp_path / "cpp"
    shutil.copytree(CPP, tree)
    (tree / "statjr" / "impute_level2.cpp").write_text("this is not C++;\n")
    monkeypatch.setenv("STATJR_CACHE", str(tmp_path / "cache"))
    real = build.bundled
    monkeypatch.setattr(build, "bundled",
                        lambda kind: tree if kind == "cpp" else tmp_path / "none" if kind == "kernel"
                        else real(kind))
    with pytest.raises(CompileError) as err:
        build.kernel_archive()
    assert "impute_level2.cpp" in str(err.value)
    assert "error" in err.value.output
    assert not list((tmp_path / "cache").glob("libstatjr-*.a"))  # nothing half-built is kept


def test_prebuild_without_a_compiler_leaves_the_install_working(tmp_path, monkeypatch):
    monkeypatch.setenv("CXX", "no-such-compiler-here")
    assert kernel.prebuild(CPP, tmp_path) is None
    assert not list(Path(tmp_path).iterdir())


def test_unused_kernel_library_is_pruned_with_old_modules(tmp_path):
    import os
    import time
    old, new = tmp_path / "libstatjr-old.a", tmp_path / "libstatjr-new.a"
    for lib in (old, new):
        lib.write_bytes(b"!<arch>\n")
        lib.with_suffix(".json").write_text("{}")
    past = time.time() - 100 * 86400
    os.utime(old.with_suffix(".json"), (past, past))
    removed = build.prune_cache(tmp_path, keep=10, days=90)
    assert removed == ["libstatjr-old"]
    assert not old.exists() and not old.with_suffix(".json").exists()
    assert new.exists()


def test_install_folder_keeps_only_this_build(tmp_path, monkeypatch):
    cached = build.kernel_archive()
    name = kernel.archive_name(kernel.key(CPP, build._compiler_version(build._compiler())))
    assert cached.name == name
    out = tmp_path / "kernel"
    (out / "libstatjr-0ld.abc123").mkdir(parents=True)  # a killed build's folder
    (out / "libstatjr-0ld.abc123" / "impute.o").write_bytes(b"x")
    (out / "libstatjr-0ld.a").write_bytes(b"!<arch>\n")  # another key's archive
    shutil.copy(cached, out / name)
    shutil.copy(cached.with_suffix(".json"), out / (cached.stem + ".json"))
    before = (out / name).stat().st_mtime_ns
    assert kernel.prebuild(CPP, out) == out / name  # valid with this key: kept, not rebuilt
    assert (out / name).stat().st_mtime_ns == before
    assert sorted(p.name for p in out.iterdir()) == sorted([name, cached.stem + ".json"])
    monkeypatch.setenv("CXX", "no-such-compiler-here")
    assert kernel.prebuild(CPP, out) is None
    assert not list(out.iterdir())  # nothing stale is installed either


def test_kernel_in_use_and_lock_files_are_never_pruned(tmp_path, monkeypatch):
    import os
    import time
    monkeypatch.setenv("STATJR_CACHE", str(tmp_path))
    real = build.bundled
    monkeypatch.setattr(build, "bundled", lambda kind: tmp_path / "none" if kind == "kernel" else real(kind))
    archive = build.kernel_archive()  # built into this empty cache, and now in use
    assert archive.parent == tmp_path
    past = time.time() - 100 * 86400
    os.utime(archive.with_suffix(".json"), (past, past))
    assert build.prune_cache(tmp_path, keep=10, days=0) == []
    assert archive.exists() and archive.with_suffix(".lock").exists()


def test_killed_kernel_build_folder_is_removed(tmp_path):
    work = tmp_path / "libstatjr-abc.x1y2z3"
    work.mkdir()
    (work / "impute.o").write_bytes(b"x")
    build._remove_stale(tmp_path, "libstatjr-abc")
    assert not work.exists()


def test_module_with_unlinked_code_is_removed_and_explained(tmp_path, monkeypatch):
    # a source that defines none of the C entry points: it compiles and links
    # (a shared object may leave symbols undefined) but cannot be loaded
    monkeypatch.setenv("STATJR_CACHE", str(tmp_path))
    source = ("// a module whose entry points are declared, never defined\n#include <cstdint>\nextern \"C\" {\n"
              + build.CDEF + "}\n")
    with pytest.raises(CompileError, match="never linked") as err:
        build.build(source)
    assert "undefined symbol" in str(err.value)
    name = build.module_name(source)
    assert not list(tmp_path.glob(name + "*.so")) and not list(tmp_path.glob(name + ".json"))
