"""Models of interest: the protocol a template follows to be 2LevelImpute's analysis model.

A template becomes a model of interest (MOI) by also subclassing
:class:`ModelOfInterest` and saying, as class attributes, which level, which
distributions and whether random slopes it fits.  2LevelImpute then offers
it among its MOIlevel, MOIdist and MOIslope choices, asks its questions in
MOI form, fits it to every imputed dataset and pools its estimates; nothing
in 2LevelImpute names it.  A new model of interest is one new template file.

The protocol, after statsmodels' model classes: what it fits
(``moi_level``, ``moi_distributions``, ``moi_slopes``), its questions
(:meth:`ModelOfInterest.moi_questions`), how those answers become its own
invars (:meth:`ModelOfInterest.moi_invars`), its estimates and their
covariance matrix per fit (:meth:`ModelOfInterest.estimates`) and,
optionally, a maximum-likelihood fit (:meth:`ModelOfInterest.ml_fit`) for the
pooled likelihood-ratio test D3; a model that does not provide one gets D1
and D2 only.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .inputs import Variable, VariableList

__all__ = ["ModelOfInterest", "models_of_interest", "choose_model"]


class ModelOfInterest:
    """Mixin for templates that can serve as 2LevelImpute's model of interest.

    Class attributes
    ----------------
    moi_level : int
        1 or 2: the levels the model has.
    moi_distributions : tuple of str
        The response distributions it fits (offered as MOIdist).
    moi_slopes : bool
        True when it fits random coefficients (MOIslope "Yes"); it then asks
        ``z``.
    moi_dist_key : str or None
        The key of the template's own distribution question (``D``), which
        :meth:`moi_invars` answers with MOIdist; None when it asks none.
    """

    moi_level: ClassVar[int] = 1
    moi_distributions: ClassVar[tuple[str, ...]] = ("Normal",)
    moi_slopes: ClassVar[bool] = False
    moi_dist_key: ClassVar[str | None] = "D"

    def moi_questions(self, ask, dist: str) -> None:
        """Ask the model's questions as 2LevelImpute words them (the seed's keys).

        The default asks what the distribution needs (link, denominator,
        offset), the response ``y``, the explanatory variables ``x`` and,
        for random-slope models, ``z``.
        """
        from .regression import ask_distribution_options

        ask_distribution_options(ask, dist, moi=True)
        ask(Variable("y", "In your MOI, what is the response variable?"))
        ask(VariableList("x", "Explanatory variables for MOI:",
                         help="cons for an intercept; name.cat for categorical variables (dummies, "
                              "last category the reference)."))
        if self.moi_slopes:
            ask(VariableList("z", "Variables with random coefficients at level 2 in the MOI:",
                             help="cons for the intercept, plus the variables whose slopes vary."))

    def moi_keys(self, answers, dist: str) -> list[str]:
        """The keys :meth:`moi_questions` asks, given the answers so far."""
        keys: list[str] = []

        def record(question):
            keys.append(question.key)
            return answers.get(question.key)

        self.moi_questions(record, dist)
        return keys

    def moi_invars(self, answers, dist: str, l2id: str | None) -> dict[str, Any]:
        """This template's own invars from 2LevelImpute's answers."""
        keys = self.moi_keys(answers, dist)
        invars = {k: answers.strings[k] for k in keys if k in answers.strings}
        if self.moi_dist_key:
            invars[self.moi_dist_key] = dist
        if self.moi_level == 2:
            invars["L2ID"] = l2id
        return invars

    def estimates(self, results) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Coefficient names, posterior means and posterior covariance of one fit.

        Read from the fit's chains (``out``) for the parameters whose kind is
        "coefficient", so multiparameter tests can pool whole vectors.
        """
        names = [p.name for p in results.params if p.kind == "coefficient"]
        draws = results["out"][names].to_numpy()
        cov = np.atleast_2d(np.cov(draws, rowvar=False))
        return names, draws.mean(axis=0), cov

    def ml_fit(self, frame, answers, dist: str, drop=()):
        """A maximum-likelihood fit of this model to one dataset, for D3, or None.

        D3 (:func:`statjr_py.pooling.d3`) evaluates each imputation's
        likelihood at the pooled ML estimates, which the MCMC fits cannot give;
        a model whose likelihood can be evaluated returns a
        :class:`statjr_py.mlfit.MLFit` here (e.g. from
        :func:`statjr_py.mlfit.normal_ml`).  The default, None, says the model
        has none, and 2LevelImpute then reports D1 and D2 only.

        Parameters
        ----------
        frame : DataFrame
            One completed dataset.
        answers : mapping
            The answers :meth:`moi_questions` asked (``y``, ``x``, ``L2ID``, ...).
        dist : str
            The response distribution (MOIdist).
        drop : sequence of str
            Terms of ``x`` (design names) to leave out: the null model of a test.
        """
        return None


def models_of_interest() -> list:
    """Instances of every registered template that follows the protocol."""
    from .registry import templates

    return [cls() for _, cls in sorted(templates().items(), key=lambda kv: kv[0].lower())
            if issubclass(cls, ModelOfInterest)]


def choose_model(level: int, dist: str, slopes: bool):
    """The model of interest for these answers, or None.

    Earlier template folders win (``STATJR_TEMPLATES`` before the bundled
    ones), as they do for template names.
    """
    for m in models_of_interest():
        if m.moi_level == level and dist in m.moi_distributions and m.moi_slopes == slopes:
            return m
    return None
