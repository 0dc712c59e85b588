# Reference values for test/core/trend.test.ts and test/report/pref-pressure.test.ts, pasted
# there (scipy 1.17, statsmodels 0.15). Two independent routes to the Cochran-Armitage z:
#  1. statsmodels' linear-by-linear association test (Table.test_ordinal_association), whose
#     variance uses N - 1, rescaled by sqrt(N / (N - 1));
#  2. the score test of the slope in a binomial GLM logit(p) = a + b x (expected information).
# Newcombe's interval is computed by hand from statsmodels' Wilson intervals.
import numpy as np
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.contingency_tables import Table
from statsmodels.stats.proportion import proportion_confint

def ca_table(x, e, n):
    x, e, n = np.asarray(x, float), np.asarray(e), np.asarray(n)
    r = Table(np.column_stack([e, n - e])).test_ordinal_association(
        row_scores=x, col_scores=np.array([1.0, 0.0]))
    N = n.sum()
    return r.zscore * np.sqrt(N / (N - 1))

def ca_score(x, e, n):
    y = np.concatenate([np.r_[np.ones(k), np.zeros(m - k)] for k, m in zip(e, n)])
    xs = np.concatenate([np.full(m, float(xi)) for xi, m in zip(x, n)])
    null = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial())
    fit = null.fit()
    chi2, p, _ = null.score_test(fit.params, exog_extra=xs[:, None], observed=False)
    return float(np.sqrt(np.ravel(chi2)[0])), float(np.ravel(p)[0])

def newcombe(x1, n1, x2, n2):
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = proportion_confint(x1, n1, method="wilson")
    l2, u2 = proportion_confint(x2, n2, method="wilson")
    d = p1 - p2
    return d, d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)

for name, x, e, n in [
    ("steps", [0, 100, 300, 1000], [12, 15, 19, 27], [60, 60, 60, 60]),
    ("percent", [0, 5, 10, 25, 50], [3, 4, 9, 11, 20], [40, 38, 40, 35, 40]),
    ("down", [0, 10, 30], [20, 14, 6], [50, 50, 50]),
]:
    z = ca_table(x, e, n)
    zs, ps = ca_score(x, e, n)
    print(name, "z", repr(z), "p", repr(2 * stats.norm.sf(abs(z))), "| score test |z|", repr(zs), "p", repr(ps))

print("newcombe 12/60 - 20/60", newcombe(12, 60, 20, 60))
print("newcombe 27/60 - 30/60", newcombe(27, 60, 30, 60))

# The MSM x pressure interaction: a binomial GLM logit(p) = b0 + b1 msm + b2 x + b3 msm*x on the
# grouped counts (freq_weights), b3 with its Wald z and p (statsmodels' default, Wald).
def interaction(x, msm_e, msm_n, aft_e, aft_n):
    rows = []
    for xi, e, n in zip(x, msm_e, msm_n):
        rows += [(1, xi, 1, e), (1, xi, 0, n - e)]
    for xi, e, n in zip(x, aft_e, aft_n):
        rows += [(0, xi, 1, e), (0, xi, 0, n - e)]
    g = np.array([r[0] for r in rows], float)
    xs = np.array([r[1] for r in rows], float)
    y = np.array([r[2] for r in rows], float)
    w = np.array([r[3] for r in rows], float)
    X = np.column_stack([np.ones_like(g), g, xs, g * xs])
    # Converged tighter than the default (tol 1e-8 on the deviance), as specsci converges.
    fit = sm.GLM(y, X, family=sm.families.Binomial(), freq_weights=w).fit(tol=1e-14, maxiter=200)
    return fit.params[3], fit.bse[3], fit.tvalues[3], fit.pvalues[3]

print("interaction steps", interaction([0, 100, 300, 1000], [12, 15, 19, 27], [60] * 4, [20, 22, 25, 30], [60] * 4))
print("interaction percent", interaction([0, 5, 10, 25, 50], [3, 4, 9, 11, 20], [40, 38, 40, 35, 40], [5, 5, 5, 5, 5], [40, 40, 40, 40, 40]))
