"""Shared fixtures: a private compile cache for the whole test session."""
import os
import sys

import pytest

# Test helpers (tests/impute_sim.py) import as top-level modules.
sys.path.insert(0, os.path.dirname(__file__))

# Each test session compiles into its own cache, so cache behaviour is tested
# from cold and nothing leaks between runs.
@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    path = tmp_path_factory.mktemp("statjr-cache")
    old = os.environ.get("STATJR_CACHE")
    os.environ["STATJR_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("STATJR_CACHE", None)
    else:
        os.environ["STATJR_CACHE"] = old


@pytest.fixture(scope="session")
def tutorial():
    from statjr_py import load_dataset
    return load_dataset("tutorial").frame


@pytest.fixture(scope="session")
def tutmiss():
    from statjr_py import load_dataset
    return load_dataset("tutmiss").frame
