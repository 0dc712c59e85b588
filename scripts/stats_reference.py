"""Reference values for specsci's statistics (src/analysis/stats.ts), computed with scipy and
statsmodels and written to test/fixtures/stats-reference.json. Run with a Python that has both:

    python scripts/stats_reference.py > test/fixtures/stats-reference.json
"""
import json
import math

import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.contingency_tables import Table2x2, mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)

out = {"versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__}}

out["wilson"] = [
    {"x": x, "n": n, "ci": list(proportion_confint(x, n, alpha=0.05, method="wilson"))}
    for x, n in [(42, 100), (0, 10), (10, 10), (3, 20), (57, 300), (1, 2)]
]

out["newcombe"] = []
for x1, n1, x2, n2 in [(56, 70, 48, 80), (5, 10, 1, 10), (0, 20, 3, 20), (150, 300, 120, 300)]:
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    out["newcombe"].append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "diff": x1 / n1 - x2 / n2, "ci": [lo, hi]})

out["fisher"] = []
for t in [[[8, 2], [1, 5]], [[3, 7], [10, 2]], [[0, 5], [5, 0]], [[20, 80], [35, 65]], [[12, 288], [30, 270]]]:
    r = stats.fisher_exact(t)
    out["fisher"].append({"table": t, "p": float(r.pvalue), "oddsRatio": float(r.statistic)})

out["ztest"] = []
for x1, n1, x2, n2 in [(30, 100, 18, 100), (60, 300, 30, 300), (5, 50, 5, 50)]:
    z, p = proportions_ztest([x1, x2], [n1, n2])
    out["ztest"].append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "z": float(z), "p": float(p)})

out["mcnemar"] = []
for b, c in [(10, 3), (25, 12), (1, 0), (40, 41)]:
    table = [[50, b], [c, 50]]
    exact = mcnemar(table, exact=True)
    chi = mcnemar(table, exact=False, correction=True)
    out["mcnemar"].append({"b": b, "c": c, "exactP": float(exact.pvalue), "chi2": float(chi.statistic), "chi2P": float(chi.pvalue)})

out["meanInterval"] = []
for xs in [[0.07, 0.11, 0.05, 0.09], [0.35, 0.21, 0.26], [1.0, 2.0, 4.0, 8.0, 16.0]]:
    a = np.array(xs)
    sem = stats.sem(a)
    lo, hi = stats.t.interval(0.95, len(a) - 1, loc=a.mean(), scale=sem)
    out["meanInterval"].append({"xs": xs, "mean": float(a.mean()), "sem": float(sem), "ci": [float(lo), float(hi)]})

pv = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04]
out["holm"] = {"p": pv, "adjusted": list(multipletests(pv, method="holm")[1])}
out["bh"] = {"p": pv, "adjusted": list(multipletests(pv, method="fdr_bh")[1])}

out["riskRatio"] = []
for x1, n1, x2, n2 in [(30, 100, 15, 100), (12, 300, 30, 300)]:
    t = Table2x2(np.array([[x1, n1 - x1], [x2, n2 - x2]]))
    lo, hi = t.riskratio_confint()
    out["riskRatio"].append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "ratio": float(t.riskratio), "ci": [float(lo), float(hi)]})

out["power"] = []
for p1, p2 in [(0.20, 0.10), (0.50, 0.35), (0.07, 0.14), (0.54, 0.14)]:
    n = NormalIndPower().solve_power(effect_size=proportion_effectsize(p1, p2), alpha=0.05, power=0.8, ratio=1.0)
    out["power"].append({"p1": p1, "p2": p2, "perArm": math.ceil(n), "exact": float(n)})

print(json.dumps(out, indent=1))
