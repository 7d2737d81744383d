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
