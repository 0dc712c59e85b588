"""Reference values for specsci's statistics (src/core/statistics/comparisons.ts, src/core/statistics/agreement.ts),
written to test/fixtures/stats-reference.json. Run from the repository root:

    python3 scripts/stats_reference.py && npx biome format --write test/fixtures/stats-reference.json

Sources, recorded per section under "sources" in the fixture:
- scipy and numpy where they compute the statistic;
- mpmath at 40 significant digits for distribution quantiles and tails (the truth that scipy itself
  is checked against: scipy's t quantile is off by up to 4e-15 relative);
- statsmodels for the sections only it computes. Where statsmodels is not installed, those sections
  are carried over unchanged from the committed fixture (with the statsmodels version that made
  them), and new cases that need its algorithms are computed by numpy transcriptions of the
  algorithms statsmodels documents, each marked below.
JSON has no NaN: an undefined statistic is written as null.
"""
import json
import math
import os

import mpmath
import numpy as np
import scipy
from scipy import optimize, stats

try:
    import statsmodels

    HAVE_STATSMODELS = True
except ImportError:
    HAVE_STATSMODELS = False

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "stats-reference.json")
committed = {}
if os.path.exists(FIXTURE):
    with open(FIXTURE) as f:
        committed = json.load(f)

mpmath.mp.dps = 40
SCIPY = f"scipy {scipy.__version__}"
NUMPY = f"numpy {np.__version__}"
MPMATH = f"mpmath {mpmath.__version__} (40 digits)"
sm_version = statsmodels.__version__ if HAVE_STATSMODELS else committed["versions"]["statsmodels"]
STATSMODELS = f"statsmodels {sm_version}"

out = {
    "versions": {
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "mpmath": mpmath.__version__,
        "statsmodels": sm_version,
    },
    "sources": {},
}


def section(name, source, values):
    out["sources"][name] = source
    out[name] = values


def from_statsmodels(name, compute):
    """A statsmodels-only section: recomputed where statsmodels is installed, else kept as committed."""
    if HAVE_STATSMODELS:
        section(name, STATSMODELS, compute())
    else:
        section(name, committed.get("sources", {}).get(name, STATSMODELS), committed[name])


def nan_to_none(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


# --- statsmodels sections (kept as committed without statsmodels) -------------------------------


def sm_wilson():
    from statsmodels.stats.proportion import proportion_confint

    return [
        {"x": x, "n": n, "ci": list(proportion_confint(x, n, alpha=0.05, method="wilson"))}
        for x, n in [(42, 100), (0, 10), (10, 10), (3, 20), (57, 300), (1, 2)]
    ]


def sm_newcombe():
    from statsmodels.stats.proportion import confint_proportions_2indep

    rows = []
    for x1, n1, x2, n2 in [(56, 70, 48, 80), (5, 10, 1, 10), (0, 20, 3, 20), (150, 300, 120, 300)]:
        lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
        rows.append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "diff": x1 / n1 - x2 / n2, "ci": [lo, hi]})
    return rows


def sm_ztest():
    from statsmodels.stats.proportion import proportions_ztest

    rows = []
    for x1, n1, x2, n2 in [(30, 100, 18, 100), (60, 300, 30, 300), (5, 50, 5, 50)]:
        z, p = proportions_ztest([x1, x2], [n1, n2])
        rows.append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "z": float(z), "p": float(p)})
    return rows


def sm_mcnemar():
    from statsmodels.stats.contingency_tables import mcnemar

    rows = []
    for b, c in [(10, 3), (25, 12), (1, 0), (40, 41)]:
        table = [[50, b], [c, 50]]
        exact = mcnemar(table, exact=True)
        chi = mcnemar(table, exact=False, correction=True)
        rows.append({"b": b, "c": c, "exactP": float(exact.pvalue), "chi2": float(chi.statistic), "chi2P": float(chi.pvalue)})
    return rows


PV = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04]


def sm_holm():
    from statsmodels.stats.multitest import multipletests

    return {"p": PV, "adjusted": list(multipletests(PV, method="holm")[1])}


def sm_bh():
    from statsmodels.stats.multitest import multipletests

    return {"p": PV, "adjusted": list(multipletests(PV, method="fdr_bh")[1])}


def sm_risk_ratio():
    from statsmodels.stats.contingency_tables import Table2x2

    rows = []
    for x1, n1, x2, n2 in [(30, 100, 15, 100), (12, 300, 30, 300)]:
        t = Table2x2(np.array([[x1, n1 - x1], [x2, n2 - x2]]))
        lo, hi = t.riskratio_confint()
        rows.append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "ratio": float(t.riskratio), "ci": [float(lo), float(hi)]})
    return rows


POWER_CASES = [(0.20, 0.10), (0.50, 0.35), (0.07, 0.14), (0.54, 0.14)]


def sm_power():
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    rows = []
    for p1, p2 in POWER_CASES:
        n = NormalIndPower().solve_power(effect_size=proportion_effectsize(p1, p2), alpha=0.05, power=0.8, ratio=1.0)
        rows.append({"p1": p1, "p2": p2, "perArm": math.ceil(n), "exact": float(n)})
    return rows


from_statsmodels("wilson", sm_wilson)
from_statsmodels("newcombe", sm_newcombe)
from_statsmodels("ztest", sm_ztest)
from_statsmodels("mcnemar", sm_mcnemar)
from_statsmodels("holm", sm_holm)
from_statsmodels("bh", sm_bh)
from_statsmodels("riskRatio", sm_risk_ratio)
from_statsmodels("power", sm_power)

# --- scipy sections -------------------------------------------------------------------------------

fisher = []
for t in [[[8, 2], [1, 5]], [[3, 7], [10, 2]], [[0, 5], [5, 0]], [[20, 80], [35, 65]], [[12, 288], [30, 270]]]:
    r = stats.fisher_exact(t)
    fisher.append({"table": t, "p": float(r.pvalue), "oddsRatio": float(r.statistic)})
section("fisher", SCIPY, fisher)

# df 1, 4, 6, 7, 30 and 1000: the t quantile matters most for few seeds.
mean_interval = []
for xs in [
    [0.07, 0.11, 0.05, 0.09],
    [0.35, 0.21, 0.26],
    [1.0, 2.0, 4.0, 8.0, 16.0],
    [0.3, 0.6],
    [0.02, 0.31, 0.12, 0.2, 0.0, 0.45, 0.08],
    [0.5, 0.61, 0.47, 0.39, 0.7, 0.55, 0.52, 0.44],
    [((i * 37) % 31) / 31 for i in range(31)],
    [((i * 7919) % 1001) / 1001 for i in range(1001)],
]:
    a = np.array(xs)
    sem = stats.sem(a)
    lo, hi = stats.t.interval(0.95, len(a) - 1, loc=a.mean(), scale=sem)
    mean_interval.append({"xs": xs, "mean": float(a.mean()), "sem": float(sem), "ci": [float(lo), float(hi)]})
section("meanInterval", SCIPY, mean_interval)

# --- distribution functions, from mpmath ---------------------------------------------------------


def t_cdf(t, df):
    """Student's t CDF through the regularized incomplete beta function."""
    x = df / (df + t * t)
    lower = mpmath.betainc(df / 2, mpmath.mpf(1) / 2, 0, x, regularized=True) / 2
    return 1 - lower if t > 0 else lower


def t_quantile(p, df):
    p = mpmath.mpf(p)
    df = mpmath.mpf(df)
    start = mpmath.mpf(stats.t.ppf(float(p), float(df)))
    return mpmath.findroot(lambda t: t_cdf(t, df) - p, start, tol=mpmath.mpf(10) ** -35)


T_DF = list(range(1, 31)) + [40, 60, 100, 120, 1000, 10_000, 1_000_000, 100_000_000]
T_P = [0.75, 0.9, 0.95, 0.975, 0.995, 0.9995, 0.99995]
section(
    "tQuantile",
    MPMATH,
    [{"df": df, "p": p, "q": float(t_quantile(p, df))} for df in T_DF for p in T_P],
)

Z_P = [1e-15, 1e-10, 1e-6, 1e-4, 0.001, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.6, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999, 0.9999, 1 - 1e-10]
section(
    "normalQuantile",
    MPMATH,
    # Φ⁻¹ of the double p exactly as given (mpf(p) is that double, not the decimal).
    [{"p": p, "q": float(-mpmath.sqrt(2) * mpmath.erfinv(1 - 2 * mpmath.mpf(p)))} for p in Z_P],
)

Z = [0.0, 0.001, 0.5, 1.0, 1.959963984540054, 2.5, 3.0, 5.0, 8.0, 10.0, 20.0, 37.0]
section(
    "normalTwoSidedP",
    MPMATH,
    [{"z": z, "p": float(mpmath.erfc(mpmath.mpf(z) / mpmath.sqrt(2)))} for z in Z],
)
X2 = [0.0, 0.01, 0.5, 1.0, 2.769230769230769, 3.841458820694124, 10.0, 30.0, 100.0, 700.0, 1400.0]
section(
    "chiSquare1Sf",
    MPMATH,
    [{"x": x, "p": float(mpmath.erfc(mpmath.sqrt(mpmath.mpf(x) / 2)))} for x in X2],
)

# --- undefined statistics -------------------------------------------------------------------------


def pooled_z(x1, n1, x2, n2):
    """statsmodels' proportions_ztest (pooled variance, two-sided), transcribed: 0/0 gives NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = np.float64(x1) / n1, np.float64(x2) / n2
        pooled = np.float64(x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1.0 / np.float64(n1) + 1.0 / np.float64(n2)))
        z = (p1 - p2) / se
    return nan_to_none(z), nan_to_none(2 * stats.norm.sf(abs(z)) if np.isfinite(z) else np.nan)


ztest_undefined = []
for x1, n1, x2, n2 in [(0, 10, 0, 10), (10, 10, 10, 10), (0, 10, 0, 30), (0, 0, 3, 10)]:
    z, p = pooled_z(x1, n1, x2, n2)
    assert z is None and p is None
    ztest_undefined.append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "z": z, "p": p})
section("ztestUndefined", f"{NUMPY}: statsmodels' pooled formula gives 0/0", ztest_undefined)


def mcnemar_undefined(b, c):
    """No discordant pairs: scipy's binomtest refuses n = 0 and (|b − c| − 1)² / (b + c) is 1/0."""
    try:
        stats.binomtest(b, b + c, 0.5)
    except ValueError:
        return {"b": b, "c": c, "exactP": None, "chi2": None, "chi2P": None}
    raise AssertionError("binomtest accepted n = 0")


section("mcnemarUndefined", f"{SCIPY}: binomtest refuses n = 0", [mcnemar_undefined(0, 0)])

fisher_degenerate = []
for t in [[[0, 10], [0, 10]], [[10, 0], [10, 0]], [[0, 0], [3, 7]]]:
    # A zero outcome margin allows one table: scipy's p = 1, and specsci's. An arm with no
    # samples is no comparison at all: scipy still says 1, specsci says undefined.
    r = stats.fisher_exact(t)
    empty_arm = sum(t[0]) == 0 or sum(t[1]) == 0
    fisher_degenerate.append(
        {"table": t, "scipyP": float(r.pvalue), "p": None if empty_arm else float(r.pvalue)}
    )
section(
    "fisherDegenerate",
    f"{SCIPY} (p = 1 for one possible table; specsci: the same, undefined for an empty arm)",
    fisher_degenerate,
)


def holm_adjust(p):
    """Holm's step-down as statsmodels documents it: sorted p·(m − rank), running max, capped at 1."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    out_ = np.empty(m)
    out_[order] = adjusted
    return out_


def without_nan(adjust, p):
    """NaN p-values are left out of the family (R's p.adjust with NA) and stay undefined."""
    p = np.asarray([np.nan if x is None else x for x in p], dtype=float)
    finite = ~np.isnan(p)
    res = np.full(len(p), np.nan)
    res[finite] = adjust(p[finite])
    return [nan_to_none(x) for x in res]


# The transcription reproduces the committed statsmodels values.
assert np.allclose(holm_adjust(PV), out["holm"]["adjusted"], rtol=1e-15, atol=0)
assert np.allclose(stats.false_discovery_control(PV), out["bh"]["adjusted"], rtol=1e-15, atol=0)

NAN_FAMILIES = [
    [0.01, None, 0.03, 0.005, 0.2, 0.04],
    [None, 0.04],
    [None, None],
    [0.5, None, 0.001, 0.02, None],
]
section(
    "holmNaN",
    f"{NUMPY}: statsmodels' Holm algorithm on the defined p-values",
    [{"p": p, "adjusted": without_nan(holm_adjust, p)} for p in NAN_FAMILIES],
)
section(
    "bhNaN",
    f"{SCIPY}: false_discovery_control on the defined p-values",
    [
        {"p": p, "adjusted": without_nan(lambda x: stats.false_discovery_control(x) if len(x) else x, p)}
        for p in NAN_FAMILIES
    ],
)

# --- agreement ------------------------------------------------------------------------------------


def cohen(a, b, labels):
    """Cohen's kappa as sklearn's cohen_kappa_score and statsmodels' cohens_kappa define it (rows:
    rater a), transcribed in numpy since neither is installed here."""
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    matrix = np.zeros((k, k))
    for x, y in zip(a, b):
        matrix[index[x], index[y]] += 1
    n = matrix.sum()
    observed = np.trace(matrix) / n
    chance = float(np.sum(matrix.sum(axis=1) * matrix.sum(axis=0))) / n**2
    kappa = None if chance == 1 else (observed - chance) / (1 - chance)
    return {"labels": labels, "matrix": matrix.astype(int).tolist(), "observed": observed, "chance": chance, "kappa": kappa}


COHEN_CASES = [
    # Three categories, 12 items.
    (list("aabbccabcabc"), list("abbbcaabccbc"), ["a", "b", "c"]),
    # A category only rater b uses; four categories.
    (["x", "y", "x", "z", "y", "x", "z", "z", "y", "x"], ["x", "y", "w", "z", "x", "x", "z", "y", "y", "w"], ["x", "y", "z", "w"]),
    # The hand-computed boolean case of test/analysis/reasoning.test.ts.
    ([1, 1, 1, 1, 0, 0, 0, 1, 1, 0], [1, 1, 1, 1, 0, 0, 0, 0, 0, 1], [1, 0]),
    # Every rating the same: chance agreement 1, kappa undefined.
    (["s", "s", "s"], ["s", "s", "s"], ["s"]),
]
section(
    "cohenKappa",
    f"{NUMPY}: sklearn's / statsmodels' documented formula",
    [{"a": a, "b": b, **cohen(a, b, labels)} for a, b, labels in COHEN_CASES],
)



def cohen_interval(a, b, labels):
    """Cohen's kappa with the large-sample standard error and 95% Wald interval that statsmodels'
    cohens_kappa (and SAS's PROC FREQ) report: Fleiss, Cohen & Everitt (1969), transcribed in
    numpy. Rows: rater a."""
    k = cohen(a, b, labels)
    matrix = np.array(k["matrix"], dtype=float)
    n = matrix.sum()
    p = matrix / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    kappa, chance = k["kappa"], k["chance"]
    term_a = float((np.diag(p) * (1 - (rows + cols) * (1 - kappa)) ** 2).sum())
    term_b = p * (cols[:, None] + rows) ** 2
    np.fill_diagonal(term_b, 0)
    term_b = (1 - kappa) ** 2 * float(term_b.sum())
    term_c = (kappa - chance * (1 - kappa)) ** 2
    se = math.sqrt(max(0.0, (term_a + term_b - term_c) / (1 - chance) ** 2 / n))
    z = float(stats.norm.isf(0.025))
    return {**k, "se": se, "ci": [max(-1.0, kappa - z * se), min(1.0, kappa + z * se)]}


def from_table(table):
    """A square count table (rows: rater a) as the two raters' ratings, labels 0..k-1."""
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b, list(range(len(table)))


# SAS's PROC FREQ example that statsmodels' tests print: kappa 0.4842, ASE 0.1380, 95% CI
# 0.2137 to 0.7547 (table10 of statsmodels/stats/tests/test_inter_rater.py).
SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]
INTERVAL_CASES = [
    from_table(SAS_TABLE),
    *[c for c in COHEN_CASES if len(c[2]) > 1],
    # Judge against human on 2x2 tables: good agreement, none beyond chance, worse than chance.
    from_table([[20, 3], [4, 13]]),
    from_table([[5, 5], [5, 5]]),
    from_table([[1, 6], [7, 2]]),
    # Perfect agreement: the variance is 0.
    from_table([[3, 0], [0, 4]]),
]
interval_rows = [{"a": a, "b": b, **cohen_interval(a, b, labels)} for a, b, labels in INTERVAL_CASES]
sas = interval_rows[0]
assert [round(x, 4) for x in (sas["kappa"], sas["se"], *sas["ci"])] == [0.4842, 0.1380, 0.2137, 0.7547], sas
section(
    "cohenKappaInterval",
    f"{NUMPY}: statsmodels' documented cohens_kappa variance (Fleiss, Cohen & Everitt 1969); the first case is SAS's printed example",
    interval_rows,
)

def fleiss(ratings, labels):
    """Fleiss' kappa as statsmodels' fleiss_kappa(method="fleiss") documents it, on the subjects ×
    categories count table of the ratings (statsmodels' aggregate_raters), transcribed in numpy."""
    table = np.array([[row.count(c) for c in labels] for row in ratings], dtype=float)
    n_sub, _ = table.shape
    n_rat = table.sum(axis=1)[0]
    p_cat = table.sum(axis=0) / (n_sub * n_rat)
    p_rat = ((table * table).sum(axis=1) - n_rat) / (n_rat * (n_rat - 1))
    observed = p_rat.mean()
    chance = float((p_cat * p_cat).sum())
    kappa = None if chance == 1 else (observed - chance) / (1 - chance)
    return {"observed": observed, "chance": chance, "kappa": kappa}


def expand(counts, labels):
    """A subjects × categories count row as one subject's ratings."""
    return [[label for label, n in zip(labels, row) for _ in range(n)] for row in counts]


# Fleiss (1971) as Wikipedia's worked example gives it: 10 subjects, 14 raters, 5 categories, κ = 0.210.
FLEISS_1971 = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]
FLEISS_CASES = [
    (expand(FLEISS_1971, [1, 2, 3, 4, 5]), [1, 2, 3, 4, 5]),
    (
        [["self_preservation", "goal", "none"], ["goal", "goal", "goal"], ["none", "none", "goal"], ["self_preservation", "self_preservation", "none"], ["none", "none", "none"], ["goal", "self_preservation", "none"]],
        ["self_preservation", "goal", "none"],
    ),
    # The hand-computed boolean case of test/analysis/reasoning.test.ts.
    ([[True, True, True], [False, False, False], [True, True, False], [True, False, False]], [True, False]),
    ([["q", "q"], ["q", "q"]], ["q"]),
]
fleiss_rows = [{"ratings": r, **fleiss(r, labels)} for r, labels in FLEISS_CASES]
assert round(fleiss_rows[0]["kappa"], 3) == 0.210
section("fleissKappa", f"{NUMPY}: statsmodels' documented fleiss_kappa formula", fleiss_rows)

# --- sample sizes ---------------------------------------------------------------------------------


def normal_ind_power_n(p1, p2, alpha, power):
    """statsmodels' NormalIndPower solve for nobs1 with ratio 1, transcribed: the power of the
    two-sided test counts both rejection tails, Φ(h·√(n/2) − z) + Φ(−h·√(n/2) − z), solved for n."""
    h = abs(2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2)))
    crit = stats.norm.isf(alpha / 2)

    def f(n):
        d = h * math.sqrt(n / 2)
        return stats.norm.sf(crit - d) + stats.norm.cdf(-crit - d) - power

    return optimize.brentq(f, 1e-10, 1e7, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)


POWER_MORE = [(p1, p2, 0.05, 0.8) for p1, p2 in POWER_CASES] + [
    (0.1, 0.0, 0.05, 0.8),
    (0.0, 0.02, 0.05, 0.9),
    (1.0, 0.9, 0.01, 0.8),
    (0.3, 0.25, 0.1, 0.5),
    (0.5, 0.1, 0.05, 0.99),
    (1.0, 0.0, 0.05, 0.8),
]
section(
    "powerScipy",
    f"{SCIPY}: brentq on statsmodels' documented NormalIndPower power",
    [
        {"p1": p1, "p2": p2, "alpha": a, "power": b, "exact": (n := normal_ind_power_n(p1, p2, a, b)), "perArm": math.ceil(n)}
        for p1, p2, a, b in POWER_MORE
    ],
)
for row, sm in zip(out["powerScipy"], out["power"]):
    assert math.isclose(row["exact"], sm["exact"], rel_tol=1e-9), (row, sm)

with open(FIXTURE, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
