"""Calibration of the sample province to the Directive 10 results reported in February 2024 (domain.md).

The generator does not draw online/digitised/paid flags coin by coin: it gives every unit and phase (baseline,
window) an exact quota, solved so that the pooled level rates hit the reported figures at any scale and seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# What the province reported (window value, change in points since the baseline, None where not reported).
ARTICLE: dict[tuple[str, str], tuple[float, float | None]] = {
    ("online_rate", "toan_tinh"): (0.90, 62.0),
    ("online_rate", "tinh"): (0.79, None),
    ("online_rate", "huyen"): (0.95, None),
    ("digitisation_rate", "toan_tinh"): (0.97, 84.0),
    ("digitisation_rate", "tinh"): (0.99, 69.0),
    ("digitisation_rate", "huyen"): (0.96, 90.0),
    ("online_payment_rate", "toan_tinh"): (0.42, 37.0),
    ("online_payment_rate", "tinh"): (0.48, None),
    ("online_payment_rate", "huyen"): (0.27, None),
}
ARTICLE_UNITS_MEETING = {("online_rate", "tinh"): (13, 17), ("online_rate", "huyen"): (7, 8)}

# Baselines where the article gives none: chosen, and consistent with the reported changes.
DESIGNED_BASELINE: dict[tuple[str, str], float] = {
    ("online_rate", "tinh"): 0.20,
    ("online_rate", "huyen"): 0.33,
    ("online_payment_rate", "tinh"): 0.07,
    ("online_payment_rate", "huyen"): 0.03,
}

# Spread of unit rates around their level, per indicator and phase (0 baseline, 1 window).
SPREAD = {
    ("online_rate", 0): 0.08, ("online_rate", 1): 0.015,
    ("digitisation_rate", 0): 0.08, ("digitisation_rate", 1): 0.008,
    ("online_payment_rate", 0): 0.03, ("online_payment_rate", 1): 0.05,
}
# Units designed below the online target keep these window rates; the others are solved.
ONLINE_LOW_WINDOW = {"tinh": (0.58, 0.72), "huyen": (0.86, 0.86)}
ONLINE_HIGH_TINH = (0.88, 0.97)


def level_targets(indicator: str, phase: int) -> dict[str, float]:
    """Pooled targets per level (tinh, huyen, toan_tinh) for an indicator and phase."""
    out = {}
    for level in ("tinh", "huyen", "toan_tinh"):
        window, change = ARTICLE[(indicator, level)]
        if phase == 1:
            out[level] = window
        elif change is not None:
            out[level] = window - change / 100
        else:
            out[level] = DESIGNED_BASELINE[(indicator, level)]
    return out


def solve_shift(base: np.ndarray, weights: np.ndarray, adjustable: np.ndarray, target: float) -> np.ndarray:
    """Rates base + delta (for adjustable units), clipped to [0, 1], whose weighted mean is `target`."""
    total = weights.sum()
    if total == 0:
        return np.clip(base, 0, 1)
    lo, hi = -1.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        rates = np.clip(base + mid * adjustable, 0, 1)
        if (rates * weights).sum() / total < target:
            lo = mid
        else:
            hi = mid
    return np.clip(base + hi * adjustable, 0, 1)


def integer_quotas(rates: np.ndarray, counts: np.ndarray, adjustable: np.ndarray, total_quota: int) -> np.ndarray:
    """Whole quotas per unit near rates * counts that add up to total_quota (largest remainder, adjustable units)."""
    exact = rates * counts
    quotas = np.floor(exact).astype(np.int64)
    missing = total_quota - quotas.sum()
    remainder = np.where(adjustable > 0, exact - quotas, -1.0)
    room = counts - quotas
    order = np.argsort(-remainder, kind="stable")
    if missing > 0:
        eligible = [i for i in order if room[i] > 0 and adjustable[i] > 0]
        for i in eligible[:missing]:
            quotas[i] += 1
    elif missing < 0:
        eligible = [i for i in order[::-1] if quotas[i] > 0 and adjustable[i] > 0]
        for i in eligible[: -missing]:
            quotas[i] -= 1
    return np.minimum(quotas, counts)


@dataclass
class QuotaPlan:
    """Per unit (rows, in the order of `unit_codes`): the quota of flagged dossiers for each phase."""

    unit_codes: list[str]
    quotas: np.ndarray  # shape (units, 2)
    rates: np.ndarray  # shape (units, 2)


def plan_quotas(indicator: str, unit_codes: list[str], levels: np.ndarray, online_low: np.ndarray,
                counts: np.ndarray, rng: np.random.Generator) -> QuotaPlan:
    """Solve unit quotas so that the pooled tinh, huyen and province figures hit the calibration.

    counts: shape (units, 2), the denominators (received, or fee-bearing received) per unit and phase.
    """
    n_units = len(unit_codes)
    rates = np.zeros((n_units, 2))
    quotas = np.zeros((n_units, 2), dtype=np.int64)
    noise = rng.uniform(-1, 1, size=(n_units, 2))
    for phase in (0, 1):
        targets = level_targets(indicator, phase)
        n = counts[:, phase].astype(float)
        spread = SPREAD[(indicator, phase)]
        level_quota: dict[str, int] = {}
        for level in ("tinh", "huyen"):
            mask = levels == level
            base = targets[level] + spread * noise[mask, phase]
            adjustable = np.ones(mask.sum())
            if indicator == "online_rate" and phase == 1:
                low = online_low[mask]
                u = (noise[mask, phase] + 1) / 2
                lo, hi = ONLINE_LOW_WINDOW[level]
                if level == "tinh":  # high units fixed above the target, the low ones carry the level figure
                    hlo, hhi = ONLINE_HIGH_TINH
                    base = np.where(low, lo + (hi - lo) * u, hlo + (hhi - hlo) * u)
                    adjustable = low.astype(float)
                else:  # the low unit fixed below the target, the others carry the level figure
                    base = np.where(low, lo, base)
                    adjustable = (~low).astype(float)
            solved = solve_shift(base, n[mask], adjustable, targets[level])
            k = int(round(targets[level] * n[mask].sum()))
            quotas[mask, phase] = integer_quotas(solved, counts[mask, phase], adjustable, k)
            rates[mask, phase] = solved
            level_quota[level] = k
        mask = levels == "xa"
        k_all = int(round(targets["toan_tinh"] * n.sum()))
        k_xa = k_all - level_quota["tinh"] - level_quota["huyen"]
        n_xa = n[mask].sum()
        t_xa = k_xa / n_xa if n_xa else 0.0
        if n_xa and not 0 <= t_xa <= 1:
            raise ValueError(f"cannot calibrate {indicator}: communes would need a rate of {t_xa:.3f}")
        base = t_xa + spread * noise[mask, phase]
        adjustable = np.ones(mask.sum())
        solved = solve_shift(base, n[mask], adjustable, t_xa)
        quotas[mask, phase] = integer_quotas(solved, counts[mask, phase], adjustable, max(k_xa, 0))
        rates[mask, phase] = solved
    return QuotaPlan(unit_codes, quotas, rates)


def assign_by_quota(group: np.ndarray, eligible: np.ndarray, quota_of_group: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """Flag exactly quota_of_group[g] randomly chosen eligible rows of each group g."""
    flags = np.zeros(len(group), dtype=bool)
    idx = np.flatnonzero(eligible)
    if len(idx) == 0:
        return flags
    g = group[idx]
    order = np.lexsort((rng.random(len(idx)), g))
    sorted_g = g[order]
    starts = np.searchsorted(sorted_g, sorted_g, side="left")
    position = np.arange(len(idx)) - starts
    flags[idx[order]] = position < quota_of_group[sorted_g]
    return flags
