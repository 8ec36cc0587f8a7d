"""Buy-till-you-die lifetime-value models, our own NumPy/SciPy implementation with the scikit-learn shape.

    from cherish.analytics.clv import BetaGeo, ParetoNBD, ModifiedBetaGeo, GammaGamma
    model = BetaGeo().fit(frequency, recency, T)      # arrays; compressed to unique rows with weights
    model.params_, model.log_likelihood_, model.standard_errors_
    model.conditional_expected_purchases(t, frequency, recency, T)
"""

from cherish.analytics.clv.base import ConvergenceError, compress
from cherish.analytics.clv.bgnbd import BetaGeo, ModifiedBetaGeo
from cherish.analytics.clv.gamma_gamma import GammaGamma
from cherish.analytics.clv.pareto import ParetoNBD
from cherish.analytics.clv.value import calibration_and_holdout, clv, summary_from_transactions

__all__ = [
    "BetaGeo", "ConvergenceError", "GammaGamma", "ModifiedBetaGeo", "ParetoNBD", "calibration_and_holdout", "clv",
    "compress", "summary_from_transactions",
]
