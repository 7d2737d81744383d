"""Build hook: compile statjr-py's C++ kernel library into the package at install.

Everything else about the package is declared in pyproject.toml.  The kernel
(statjr_py/kernel.py explains it) is the long, structure-independent part of
the generated samplers; compiling it here, once, spares the first run of
every new model that compile.  Without a compiler the install still
succeeds and the first run compiles the kernel into the compile cache.
"""
import importlib.util
import logging
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _kernel_module():
    # statjr_py/kernel.py imports only the standard library, so it loads
    # before the package's dependencies are installed.
    spec = importlib.util.spec_from_file_location("_statjr_kernel", HERE / "statjr_py" / "kernel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithKernel(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install builds the kernel into the cache on first use
            return
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        bundled = Path(self.build_lib) / "statjr_py" / "_bundled"
        # the installed copy of cpp/, so that the key matches the one computed at run time
        _kernel_module().prebuild(bundled / "cpp", bundled / "kernel")


class BinaryDistribution(Distribution):
    """The wheel holds a compiled archive, so it is tagged for this platform."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPyWithKernel}, distclass=BinaryDistribution)
