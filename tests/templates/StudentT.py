"""A model of interest in one file: regression with Student-t errors.

Written only against the public API (``statjr_py`` and ``statjr_py.sdk``),
it is the example docs/authoring.md teaches from.  Because it subclasses
ModelOfInterest, 2LevelImpute offers "StudentT" as a 1-level MOIdist without
any change to 2LevelImpute.
"""

from statjr_py import Float, ModelSpec, Param, Template, Text, Variable, VariableList
from statjr_py.sdk import ModelOfInterest, column, complete_rows, design, warn_dropped


class StudentT(Template, ModelOfInterest):
    name = "StudentT"
    description = "Linear regression with Student-t errors (robust to outliers)."
    reserved = ("sigma2", "deviance")
    moi_level = 1
    moi_distributions = ("StudentT",)
    equation = r"y_i = x_i'\beta + e_i, \quad e_i \sim t_{ {{- nu -}} }(0, \sigma^2)"
    algorithm = r"Gibbs on the scale mixture: $\lambda_i$, then $\beta$, then $\sigma^2$."

    def inputs(self, ask):
        ask(Variable("y", "Response:"))
        ask(Text("D", "Specify the distribution:", choices=["StudentT"], default="StudentT"))
        ask(VariableList("x", "Explanatory variables:"))
        ask(Float("nu", "Degrees of freedom of the errors:", default=4.0))

    def moi_questions(self, ask, dist):
        super().moi_questions(ask, dist)  # y and x, worded as 2LevelImpute asks them
        ask(Float("nu", "Degrees of freedom of the MOI's errors:", default=4.0))

    def model(self, data, answers):
        y = column(data.frame, answers["y"])
        X, terms = design(data.frame, answers["x"])
        keep = complete_rows(y, X)
        warn_dropped(self.name, int((~keep).sum()), len(keep))
        params = Param.coefficients(terms) + [Param("sigma2", "variance", 1)]
        return ModelSpec(arrays={"y": y[keep], "X": X[keep]}, params=params,
                         context={"K": X.shape[1], "nu": float(answers["nu"])})
