"""A plain `pip install .` carries the bundled templates, C++ and datasets."""
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_bundled_files(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                           "--no-build-isolation", "-w", str(tmp_path), "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for tpl in ROOT.glob("templates/*"):
        if tpl.suffix in (".py", ".j2"):
            assert f"statjr_py/_bundled/templates/{tpl.name}" in names
    for src in [*ROOT.glob("cpp/statjr/*.hpp"), *ROOT.glob("cpp/statjr/*.cpp")]:
        assert f"statjr_py/_bundled/cpp/statjr/{src.name}" in names
    # the kernel library, compiled at install for this compiler (statjr_py/kernel.py)
    from statjr_py import build, kernel
    key = kernel.key(ROOT / "cpp", build._compiler_version(build._compiler()))
    assert f"statjr_py/_bundled/kernel/{kernel.archive_name(key)}" in names
    assert "statjr_py/_bundled/datasets/tutmiss.dta" in names
    assert "statjr_py/web/page.html" in names  # statjr serve's page
    assert "statjr_py/_bundled/datasets/tutorial.dta" in names
