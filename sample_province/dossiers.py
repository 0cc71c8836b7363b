"""The life of every dossier of the sample province, and the exported snapshots it leaves behind.

Everything is vectorised over dossiers (numpy), so ten million dossiers take minutes, not hours.
Times are local (Asia/Ho_Chi_Minh), naive, in whole seconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import polars as pl

from contracts.rules import rules
from sample_province import calibration
from sample_province.reference import TARGETS, Procedure, Unit

DAY = 86_400
HOUR = 3_600
MAX_ACCEPT_DELAY = 2.5 * DAY  # an online registration is accepted (or refused) within this

# Outcome probabilities.
P_NOT_RECEIVED = 0.03  # registrations never received: one third left at status 1, two thirds refused (3)
P_WITHDRAWN, P_STOPPED = 0.010, 0.004
P_SUPPLEMENT = 0.06
P_FINANCIAL = 0.25  # of fee-bearing dossiers: a separate "financial obligation" step
P_PROCESSED_BEFORE_RETURN = 0.6  # a separate status 9 snapshot before 10
P_FEE_EXEMPT = 0.08
ON_TIME = {("tinh", 0): 0.90, ("tinh", 1): 0.985, ("huyen", 0): 0.88, ("huyen", 1): 0.975,
           ("xa", 0): 0.95, ("xa", 1): 0.995}
E_RESULT = {0: 0.12, 1: 0.68}
LEVEL_CODE = {"tinh": 0, "huyen": 1, "xa": 2}


@dataclass(frozen=True)
class ProfileRates:
    """Per-unit probabilities for a profile drawn dossier by dossier instead of solved to exact quotas (the 2023
    profile's calibration): arrays of shape (units, 2), column 0 before `switch`, column 1 from it."""

    switch: date
    online: np.ndarray
    digitised: np.ndarray
    paid_online: np.ndarray
    on_time: np.ndarray
    e_result: np.ndarray
    months_to_adopt: np.ndarray  # per unit: how fast it moves from its rates before `switch` to those after

    def at(self, table: np.ndarray, unit_idx: np.ndarray, months_since_switch: np.ndarray) -> np.ndarray:
        """Each row's probability: its unit's rate before the switch, then moving to the rate after it."""
        before, after = table[unit_idx, 0], table[unit_idx, 1]
        progress = np.where(months_since_switch < 0, 0.0,
                            1 - np.exp(-np.maximum(months_since_switch, 0) / self.months_to_adopt[unit_idx]))
        return before + (after - before) * progress


def to_seconds(d: date) -> int:
    return int(datetime(d.year, d.month, d.day).timestamp() - datetime(1970, 1, 1).timestamp())


@dataclass
class Period:
    start: date
    end: date  # last day with exports, inclusive
    directive: date  # Directive 10 effective date

    @property
    def window_end_exclusive(self) -> date:
        """First day of the month holding `end`: that month is not complete (nothing is updated after it)."""
        return date(self.end.year, self.end.month, 1)

    @property
    def baseline_start(self) -> date:
        """The rules' `baseline_months` months before the effective date."""
        d, months = self.directive, rules().baseline_months
        index = d.year * 12 + d.month - 1 - months
        return date(index // 12, index % 12 + 1, d.day)


def phase_of(received: np.ndarray, period: Period) -> np.ndarray:
    """0 baseline, 1 Directive window, 2 outside both (before the baseline or in the incomplete last month)."""
    phase = np.full(len(received), 2, dtype=np.int8)
    phase[(received >= to_seconds(period.baseline_start)) & (received < to_seconds(period.directive))] = 0
    phase[(received >= to_seconds(period.directive)) & (received < to_seconds(period.window_end_exclusive))] = 1
    return phase


def _daily_counts(units: list[Unit], period: Period, scale: float, rng: np.random.Generator):
    days = np.arange(np.datetime64(period.start), np.datetime64(period.end) + 1)
    weekday = (days.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
    weight = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.35, 0.12])[weekday]
    tet = ((days >= np.datetime64("2023-01-20")) & (days <= np.datetime64("2023-01-26"))) | (
        (days >= np.datetime64("2024-02-08")) & (days <= np.datetime64("2024-02-14")))
    weight = np.where(tet, 0.1, weight)
    weight = weight / weight.mean()
    volume = np.array([u.monthly_volume for u in units]) * scale * 12 / 365
    valid = np.array([[(u.valid_from <= d.astype(object)) and (u.valid_to is None or d.astype(object) <= u.valid_to)
                       for d in days] for u in units])
    counts = rng.poisson(np.outer(volume, weight) * valid)
    return days, counts


def simulate(units: list[Unit], procedures: dict[str, Procedure], period: Period, scale: float,
             rng: np.random.Generator, rates: ProfileRates | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Returns (dossiers, snapshots): one row per dossier with its whole life, one row per exported snapshot.

    Without `rates`, the flags follow the 2023 calibration (exact quotas per unit and phase); with them, each
    dossier draws its flags from its unit's probabilities before or after `rates.switch`.
    """
    days, counts = _daily_counts(units, period, scale, rng)
    n_units, _ = counts.shape
    unit_idx = np.repeat(np.repeat(np.arange(n_units), len(days)), counts.ravel())
    day_idx = np.repeat(np.tile(np.arange(len(days)), n_units), counts.ravel())
    n = len(unit_idx)
    levels = np.array([u.level for u in units])
    level = levels[unit_idx]

    # procedure, by the unit's procedure weights
    proc_codes = sorted(procedures)
    proc_pos = {c: i for i, c in enumerate(proc_codes)}
    proc_idx = np.empty(n, dtype=np.int64)
    for ui, u in enumerate(units):
        rows = np.flatnonzero(unit_idx == ui)
        if len(rows) == 0:
            continue
        w = np.array([procedures[c].weight for c in u.procedures])
        choice = rng.choice(len(w), size=len(rows), p=w / w.sum())
        proc_idx[rows] = np.array([proc_pos[c] for c in u.procedures])[choice]
    fee_of = np.array([procedures[c].fee for c in proc_codes])
    legal_days = np.array([procedures[c].legal_days for c in proc_codes])

    # outcome: received or not (status 1 / 3 as the last state)
    day_start = days[day_idx].astype("datetime64[s]").view("int64")
    phase = phase_of(day_start, period)
    not_received = rng.random(n) < P_NOT_RECEIVED
    abandoned = not_received & (rng.random(n) < 1 / 3)
    refused = not_received & ~abandoned
    received = ~not_received

    # fee
    fee = fee_of[proc_idx].copy()
    pages = np.where(fee <= 10_000, rng.integers(1, 8, n), 1)
    fee = np.where(rng.random(n) < P_FEE_EXEMPT, 0, fee * pages)
    fee_bearing = received & (fee > 0)

    # calibrated flags: channel online, digitised, paid online
    group = unit_idx * 3 + phase
    online_low = np.array([u.online_low for u in units])
    unit_codes = [u.code for u in units]

    months_to_adopt = rng.uniform(*calibration.MONTHS_TO_ADOPT, n_units)
    since_directive = (day_start - to_seconds(period.directive)) / (30.44 * DAY)
    adoption = np.where(phase == 1, calibration.adoption_weights(since_directive, months_to_adopt[unit_idx]), 1.0)

    def quota_flags(indicator: str, eligible: np.ndarray) -> np.ndarray:
        per_group = np.bincount(group[eligible], minlength=n_units * 3).reshape(n_units, 3)
        plan = calibration.plan_quotas(indicator, unit_codes, levels, online_low, per_group[:, :2], rng,
                                       commune_target=TARGETS[(indicator, "xa")])
        outside = np.round(plan.rates[:, 1] * per_group[:, 2]).astype(np.int64)
        quota = np.column_stack([plan.quotas, outside]).ravel()
        return calibration.assign_by_quota(group, eligible, quota, rng, adoption)

    if rates is None:
        online = quota_flags("online_rate", received)
        digitised = quota_flags("digitisation_rate", received)
        paid = quota_flags("online_payment_rate", fee_bearing)
    else:
        since_switch = (day_start - to_seconds(rates.switch)) / (30.44 * DAY)
        online = received & (rng.random(n) < rates.at(rates.online, unit_idx, since_switch))
        digitised = received & (rng.random(n) < rates.at(rates.digitised, unit_idx, since_switch))
        paid = fee_bearing & (rng.random(n) < rates.at(rates.paid_online, unit_idx, since_switch))

    channel = np.where(online, 2, np.where(rng.random(n) < 0.95, 1, 3))
    channel = np.where(abandoned, 2, channel)
    channel = np.where(refused, np.where(rng.random(n) < 0.8, 2, 1), channel)

    # received_at: office hours in person, any waking hour online
    office = rng.integers(int(7.5 * HOUR), 17 * HOUR, n)
    anytime = rng.integers(6 * HOUR, 24 * HOUR, n)
    received_at = day_start + np.where(channel == 2, anytime, office)

    # the life
    registered_online = channel == 2
    accept_delay = np.where(registered_online, rng.uniform(0.02, 1, n) * MAX_ACCEPT_DELAY, 0).astype(np.int64)
    accepted_at = received_at + accept_delay
    accept_day = accepted_at - accepted_at % DAY
    due_at = accept_day + np.ceil(legal_days[proc_idx] * 1.4).astype(np.int64) * DAY + 17 * HOUR
    if rates is None:  # the window's probabilities per unit: some communes below their targets
        commune, lag = levels == "xa", rng.random((n_units, 2))

        def window_by_unit(indicator: str, by_level: np.ndarray, draw: np.ndarray) -> np.ndarray:
            target, shares = TARGETS[(indicator, "xa")], calibration.COMMUNE_LAGGARDS[indicator]
            by_unit = by_level.astype(float)
            by_unit[commune] = calibration.laggard_rates(by_level[commune], draw[commune], target, shares)
            return by_unit

        on_time_window = window_by_unit("on_time_rate", _lookup_on_time(levels, np.ones(n_units, int)), lag[:, 0])
        e_result_window = window_by_unit("e_result_rate", np.full(n_units, E_RESULT[1]), lag[:, 1])
        p_on_time = np.where(phase == 0, _lookup_on_time(level, np.zeros(n, int)), on_time_window[unit_idx])
        p_e_result = np.where(phase == 0, E_RESULT[0], e_result_window[unit_idx])
    else:
        p_on_time = rates.at(rates.on_time, unit_idx, since_switch)
        p_e_result = rates.at(rates.e_result, unit_idx, since_switch)
    on_time = rng.random(n) < p_on_time
    on_time_finish = accepted_at + (rng.uniform(0.05, 1.0, n) * (due_at - accepted_at)).astype(np.int64)
    late_finish = due_at - 17 * HOUR + rng.integers(1, 16, n) * DAY + rng.integers(8 * HOUR, 17 * HOUR, n)
    finished_at = np.where(on_time, on_time_finish, late_finish)
    outcome_draw = rng.random(n)
    withdrawn = received & (outcome_draw < P_WITHDRAWN)
    stopped = received & ~withdrawn & (outcome_draw < P_WITHDRAWN + P_STOPPED)
    finished_at = np.where(withdrawn | stopped, on_time_finish, finished_at)
    done = received & ~withdrawn & ~stopped
    span = finished_at - accepted_at
    processing_at = accepted_at + (rng.uniform(0.02, 0.2, n) * span).astype(np.int64)
    supplement = done & (rng.random(n) < P_SUPPLEMENT)
    supplement_at = accepted_at + (rng.uniform(0.25, 0.4, n) * span).astype(np.int64)
    resumed_at = accepted_at + (rng.uniform(0.45, 0.6, n) * span).astype(np.int64)
    financial = done & fee_bearing & (rng.random(n) < P_FINANCIAL)
    financial_at = accepted_at + (rng.uniform(0.65, 0.9, n) * span).astype(np.int64)
    two_step = done & (rng.random(n) < P_PROCESSED_BEFORE_RETURN)
    returned_at = finished_at + rng.integers(2 * HOUR, 3 * DAY, n)
    final_status = np.select([withdrawn, stopped, two_step], [7, 8, 9], 10)

    # events: (status, time), NaN-free, masked where the event does not happen
    first_status = np.where(registered_online, 1, np.where(refused, 3, 2))
    ev_status = np.column_stack([
        first_status,
        np.where(refused, 3, 2),
        np.full(n, 4), np.full(n, 5), np.full(n, 4), np.full(n, 6),
        final_status, np.full(n, 10),
    ])
    ev_time = np.column_stack([received_at, accepted_at, processing_at, supplement_at, resumed_at, financial_at,
                               finished_at, returned_at])
    ev_mask = np.column_stack([
        np.ones(n, bool),
        registered_online & ~abandoned,
        received, supplement, supplement, financial, received, two_step,
    ])
    end_ts = to_seconds(period.end) + DAY - 1
    ev_mask &= ev_time <= end_ts
    dossier_of = np.repeat(np.arange(n), ev_mask.sum(axis=1))
    status = ev_status[ev_mask]
    updated_at = ev_time[ev_mask]
    # one snapshot per dossier and daily export: its last state of the day
    export_day = updated_at // DAY
    last_of_day = np.ones(len(status), bool)
    last_of_day[:-1] = (dossier_of[1:] != dossier_of[:-1]) | (export_day[1:] != export_day[:-1])
    dossier_of, status, updated_at = dossier_of[last_of_day], status[last_of_day], updated_at[last_of_day]
    ordinal = np.arange(len(status)) - np.searchsorted(dossier_of, dossier_of, side="left")
    last_ordinal = np.bincount(dossier_of, minlength=n) - 1

    # fields that arrive during the life; the last visible snapshot always shows the final value
    dig_from = np.minimum(np.where(rng.random(n) < 0.85, 0, 1), last_ordinal)
    pay_from = np.minimum(np.where(registered_online & (rng.random(n) < 0.6), 0, rng.integers(1, 3, n)), last_ordinal)
    e_result = rng.random(n) < p_e_result
    paid_code = np.where(paid, np.where(rng.random(n) < 0.7, 1, 2), 0)
    s_digitised = digitised[dossier_of] & (ordinal >= dig_from[dossier_of])
    s_paid = np.where((paid_code[dossier_of] > 0) & (ordinal >= pay_from[dossier_of]), paid_code[dossier_of], 0)
    s_has_due = ~np.isin(status, (1, 3))
    s_finished = np.isin(status, (7, 8, 9, 10))
    s_e_result = e_result[dossier_of] & np.isin(status, (9, 10))

    # identity: dossier code, applicant
    unit_code_arr = np.array(unit_codes)
    seq = np.arange(n) - np.searchsorted(unit_idx * len(days) + day_idx, unit_idx * len(days) + day_idx, side="left")
    dossiers = pl.DataFrame({
        "dossier_id": np.arange(n),
        "unit_code": unit_code_arr[unit_idx],
        "level": level,
        "procedure_code": np.array(proc_codes)[proc_idx],
        "received_day": days[day_idx],
        "seq": seq + 1,
        "channel": channel.astype(np.int8),
        "received_at": received_at,
        "due_at": due_at,
        "fee_amount": fee.astype(np.int64),
        "is_business": rng.random(n) < 0.15,
        "applicant_draw": rng.integers(0, 2**62, n),
        "e_receipt_unit": np.isin(unit_idx, _e_receipt_units(units)),
    }).with_columns(
        dossier_code=pl.col("unit_code") + "-" + pl.col("received_day").dt.strftime("%y%m%d") + "-"
        + pl.col("seq").cast(pl.String).str.zfill(4),
        received_at=pl.from_epoch(pl.col("received_at"), time_unit="s"),
        due_at=pl.from_epoch(pl.col("due_at"), time_unit="s"),
    )
    snapshots = pl.DataFrame({
        "dossier_id": dossier_of,
        "status": status.astype(np.int8),
        "updated_at": updated_at,
        "has_due": s_has_due,
        "finished_at": np.where(s_finished, finished_at[dossier_of], 0),
        "has_finished": s_finished,
        "components_digitised": s_digitised,
        "paid_online": s_paid.astype(np.int8),
        "e_result": s_e_result,
        "is_last": ordinal == last_ordinal[dossier_of],
    }).with_columns(
        updated_at=pl.from_epoch("updated_at", time_unit="s"),
        finished_at=pl.when("has_finished").then(pl.from_epoch("finished_at", time_unit="s")),
    )
    return dossiers, snapshots


def _lookup_on_time(level: np.ndarray, phase: np.ndarray) -> np.ndarray:
    table = np.zeros((3, 2))
    for (lv, ph), p in ON_TIME.items():
        table[LEVEL_CODE[lv], ph] = p
    codes = np.select([level == "tinh", level == "huyen"], [0, 1], 2)
    return table[codes, phase]


def _e_receipt_units(units: list[Unit]) -> np.ndarray:
    """The 14 units that issue electronic receipts: the 10 largest departments and 4 district units."""
    tinh = sorted((i for i, u in enumerate(units) if u.level == "tinh"), key=lambda i: -units[i].monthly_volume)
    huyen = [i for i, u in enumerate(units) if u.level == "huyen"][:4]
    return np.array(tinh[:10] + huyen)
