"""Codegen, the compile cache, and compile failures."""
import os
from pathlib import Path

import numpy as np
import pytest

from statjr_py import CompileError, InputError, RunStatJR, build, registry
from statjr_py.codegen import data_struct, sampler_source
from statjr_py.registry import get_template

INVARS = {"y": "normexam", "D": "Normal", "x": "cons,standlrt"}
SMALL = {"burnin": 10, "iterations": 20, "nchains": 1}


def test_codegen_renders_without_compiling(tutorial):
    from statjr_py.engine import prepare
    before = build.compile_count()
    job = prepare("1LevelMod", "tutorial", INVARS, SMALL)
    spec = job.template.model(job.data, job.answers)
    source = sampler_source(job.template.cpp_file(), spec.context, spec.arrays, "1LevelMod")
    assert "static constexpr int K = 2;" in source
    assert "const double *y; std::int64_t n_y;" in source
    assert source.rstrip().endswith('#include "statjr/entry.hpp"')
    assert build.compile_count() == before


def test_data_struct_orders_fields_as_given():
    text = data_struct({"b": np.zeros(2), "a": np.zeros(2, dtype=np.int32)})
    assert text.index("*b;") < text.index("*a;")
    assert "static_cast<const std::int32_t *>(a[1])" in text


def test_second_identical_run_compiles_nothing():
    RunStatJR("1LevelMod", "tutorial", INVARS, SMALL)
    build.forget_loaded()  # force the disk cache, not the in-process table
    before = build.compile_count()
    RunStatJR("1LevelMod", "tutorial", INVARS, SMALL)
    assert build.compile_count() == before


def test_corrupt_cache_entry_is_rebuilt():
    RunStatJR("1LevelMod", "tutorial", INVARS, {**SMALL, "seed": 3})
    from statjr_py.engine import prepare
    job = prepare("1LevelMod", "tutorial", INVARS, SMALL)
    spec = job.template.model(job.data, job.answers)
    source = sampler_source(job.template.cpp_file(), spec.context, spec.arrays, "1LevelMod")
    name = build.module_name(source)
    sos = [p for p in build.cache_dir().iterdir() if p.name.startswith(name) and p.suffix == ".so"]
    assert len(sos) == 1
    # Replace, never truncate, the file: this process still maps the old one,
    # and a corrupt entry on disk is what another (crashed) process leaves.
    garbage = sos[0].with_suffix(".tmp")
    garbage.write_bytes(b"this is not a shared library")
    os.replace(garbage, sos[0])
    build.forget_loaded()
    before = build.compile_count()
    res = RunStatJR("1LevelMod", "tutorial", INVARS, {**SMALL, "seed": 3})
    assert build.compile_count() == before + 1
    assert len(res["ModelResults"]) == 3


def test_content_hash_changes_with_source():
    assert build.module_name("int a;") != build.module_name("int b;")
    assert build.module_name("int a;") == build.module_name("int a;")


BROKEN_PY = '''
from statjr_py import ModelSpec, Template, Variable
import numpy as np

class Broken(Template):
    name = "BrokenTemplate"
    description = "A template whose C++ does not compile."
    def inputs(self, ask):
        ask(Variable("y", "Response:"))
    def model(self, data, answers):
        return ModelSpec(arrays={"y": np.zeros(3)}, params=["a"])
'''
BROKEN_CPP = "struct Model { this is not C++ };\n"


@pytest.fixture
def user_templates(tmp_path, monkeypatch):
    folder = tmp_path / "mytemplates"
    folder.mkdir()
    monkeypatch.setenv("STATJR_TEMPLATES", str(folder))
    registry.clear_cache()
    yield folder
    registry.clear_cache()


def test_broken_template_gives_compile_error_with_compiler_text(user_templates):
    (user_templates / "broken.py").write_text(BROKEN_PY)
    (user_templates / "BrokenTemplate.cpp.j2").write_text(BROKEN_CPP)
    with pytest.raises(CompileError) as info:
        RunStatJR("BrokenTemplate", "tutorial", {"y": "normexam"}, SMALL)
    err = info.value
    assert "error" in err.output.lower()
    assert err.source_path and Path(err.source_path).is_file()
    assert "this is not C++" in Path(err.source_path).read_text()
    assert "compiler output" in str(err)


def test_missing_compiler_says_install_gpp(monkeypatch):
    monkeypatch.setenv("CXX", "no-such-compiler-statjr")
    with pytest.raises(CompileError, match="install g\\+\\+"):
        build.build("// a new source that is not cached\nint x_unique_91;\n")


def test_user_template_folder_is_searched(user_templates):
    (user_templates / "broken.py").write_text(BROKEN_PY)
    assert get_template("brokentemplate").name == "BrokenTemplate"
    assert "1LevelMod" in registry.templates()


def test_user_template_shadowing_by_inherited_name_wins(user_templates):
    """A user's subclass that inherits a bundled template's name shadows it,
    in get_template as in templates(), whichever is asked first (the lazy
    lookup reads name lines and must not skip files without one)."""
    from statjr_py.paths import bundled as bundled_folder

    bundled = bundled_folder("templates") / "1LevelMod.py"
    (user_templates / "Mine.py").write_text(
        "import importlib.util\n"
        f"s = importlib.util.spec_from_file_location('_bundled_1levelmod', {str(bundled)!r})\n"
        "m = importlib.util.module_from_spec(s)\n"
        "s.loader.exec_module(m)\n"
        "class Mine(m.OneLevelMod):\n"
        "    description = 'MY OVERRIDE'\n")
    assert type(get_template("1LevelMod")).__name__ == "Mine"
    assert registry.templates()["1LevelMod"].__name__ == "Mine"


def test_cache_is_pruned_by_count_and_age(tmp_path):
    import time

    now = time.time()
    for i in range(5):
        for ext in (".json", ".cpp", ".cpython-311-x86_64-linux-gnu.so"):
            path = tmp_path / f"_sjr_{i:024d}{ext}"
            path.write_text("x")
            os.utime(path, (now - i * 3600,) * 2)  # entry i last used i hours ago
    old = tmp_path / f"_sjr_{9:024d}.json"
    old.write_text("x")
    os.utime(old, (now - 200 * 86400,) * 2)
    removed = build.prune_cache(tmp_path, keep=3, days=90)
    assert sorted(removed) == [f"_sjr_{i:024d}" for i in (3, 4, 9)]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 9 and all(p.startswith(("_sjr_000000000000000000000000",
                                                 "_sjr_000000000000000000000001",
                                                 "_sjr_000000000000000000000002")) for p in left)


def test_cache_settings_are_checked(monkeypatch, tmp_path):
    monkeypatch.setenv("STATJR_CACHE_KEEP", "lots")
    with pytest.raises(InputError, match="STATJR_CACHE_KEEP = 'lots'"):
        build.prune_cache(tmp_path)


def test_rendering_sees_an_edited_template_in_the_same_process(tmp_path):
    # compiled Jinja2 templates are kept between renders; an edit must still show
    from statjr_py.codegen import render_file
    path = tmp_path / "Mine.cpp.j2"
    path.write_text("// first {{ k }}\n")
    assert render_file(path, {"k": 1}) == "// first 1\n"
    path.write_text("// second {{ k }}\n")
    later = path.stat().st_mtime + 5
    os.utime(path, (later, later))
    assert render_file(path, {"k": 2}) == "// second 2\n"
