"""Reference values for src/core/statistics/interaction.ts (pasted into interaction.test.ts).

Run once: /tmp/pyref/bin/python test/scripts/family_interaction_reference.py
statsmodels 0.15 and scipy 1.17: GLM Binomial (logit) fits of misaligned ~ arm * family and
~ arm + family on aggregated counts, the likelihood-ratio test of the interaction terms, the
interaction coefficient's Wald interval, Newcombe intervals and Woolf odds-ratio intervals.
"""
import json
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from patsy import dmatrix
from scipy import stats
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.proportion import confint_proportions_2indep

warnings.simplefilter("ignore")

DATASETS = {
    "two families": [("A", (30, 200), (60, 200)), ("B", (45, 180), (50, 190))],
    "zero cell": [("A", (0, 150), (20, 150)), ("B", (12, 160), (25, 170))],
    "three families": [
        ("A", (10, 100), (30, 100)),
        ("B", (20, 120), (22, 110)),
        ("C", (5, 90), (18, 95)),
    ],
    # Arm a has no misaligned sample in either family: the common arm effect diverges too.
    "separated": [("A", (0, 100), (10, 100)), ("B", (0, 80), (5, 90))],
    # Family Z has one outcome throughout: our test leaves it out, so the reference fits A and B.
    "uninformative family": [("A", (30, 200), (60, 200)), ("B", (45, 180), (50, 190))],
}


def fit(rows, formula):
    d = pd.DataFrame(
        [
            {"family": f, "arm": arm, "x": x, "n": n}
            for f, a, b in rows
            for arm, (x, n) in (("a", a), ("b", b))
        ]
    )
    # Treatment coding with arm b and the first family as the reference levels.
    X = dmatrix(formula, d, return_type="dataframe")
    endog = np.column_stack([d.x, d.n - d.x])
    return sm.GLM(endog, X, family=sm.families.Binomial()).fit(tol=1e-14, maxiter=500)


out = {}
for name, rows in DATASETS.items():
    rhs_full = "C(arm, Treatment('b')) * C(family)"
    rhs_red = "C(arm, Treatment('b')) + C(family)"
    full = fit(rows, rhs_full)
    red = fit(rows, rhs_red)
    lr = red.deviance - full.deviance
    df = int(full.df_model - red.df_model)
    res = {
        "full_deviance": full.deviance,
        "reduced_deviance": red.deviance,
        "lr": lr,
        "df": df,
        "p": stats.chi2.sf(lr, df),
        "families": [],
    }
    for f, (xa, na), (xb, nb) in rows:
        lo, hi = confint_proportions_2indep(xa, na, xb, nb, method="newcomb", compare="diff")
        t = Table2x2(np.array([[xa, na - xa], [xb, nb - xb]]))
        has_zero = min(xa, na - xa, xb, nb - xb) == 0
        res["families"].append(
            {
                "family": f,
                "diff": xa / na - xb / nb,
                "diff_ci": [lo, hi],
                "odds_ratio": None if has_zero else t.oddsratio,
                "odds_ratio_ci": None if has_zero else list(t.oddsratio_confint()),
            }
        )
    if len(rows) == 2:
        term = [k for k in full.params.index if ":" in k][0]
        lo, hi = full.conf_int().loc[term]
        res["interaction_coef"] = full.params[term]
        res["interaction_ci"] = [lo, hi]
        # Difference of differences: MOVER from the two Newcombe intervals (the formula, by hand).
        (d1, (l1, u1)), (d2, (l2, u2)) = [(r["diff"], r["diff_ci"]) for r in res["families"]]
        res["diff_of_diffs"] = d1 - d2
        res["diff_of_diffs_ci"] = [
            d1 - d2 - np.sqrt((d1 - l1) ** 2 + (u2 - d2) ** 2),
            d1 - d2 + np.sqrt((u1 - d1) ** 2 + (d2 - l2) ** 2),
        ]
    out[name] = res

print(json.dumps(out, indent=1))
