"""A test-only template: draws from cpp/statjr/rng.hpp and dist.hpp, so
tests/test_rng.py can check their distributions with scipy."""
import numpy as np

from statjr_py import Float, ModelSpec, Template, Text


class RngCheck(Template):
    name = "RngCheck"
    description = "Test harness for the C++ random number generators (not a user template)."

    def inputs(self, ask):
        ask(Text("dist", "Which distribution?", choices=["normal", "above", "between", "gamma"]))
        ask(Float("a", "First parameter", default=0.0))
        ask(Float("b", "Second parameter", default=1.0))

    def model(self, data, answers):
        return ModelSpec(arrays={"one": np.zeros(1)}, params=["draw"],
                         context={"dist": answers["dist"], "a": answers["a"], "b": answers["b"]})
