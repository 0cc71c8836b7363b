"""The generator's ground truth: the contract's measures computed on the dossiers' final visible states.

Independent of the pipeline (no DuckDB, no dbt): it is what the marts must reproduce.
"""

from __future__ import annotations

import polars as pl

from contracts.rules import rules
from sample_province.dossiers import Period

MEASURES = tuple(rules().measures)
RATES = rules().rates


def final_states(dossiers: pl.DataFrame, snapshots: pl.DataFrame) -> pl.DataFrame:
    return dossiers.join(snapshots.filter("is_last"), on="dossier_id", how="inner")


def unit_month(final: pl.DataFrame, paper_result_codes: set[str]) -> pl.DataFrame:
    """Measures per unit and calendar month, as kpis.md defines them."""
    statuses = rules().statuses
    received = ~pl.col("status").is_in(statuses["not_received"])
    fee_bearing = received & (pl.col("fee_amount") > 0)
    resolved = pl.col("status").is_in(statuses["resolved"])
    on_time = pl.col("finished_at") <= pl.col("due_at")
    paper = pl.col("procedure_code").is_in(list(paper_result_codes))
    by_received = final.group_by("unit_code", period_month=pl.col("received_at").dt.truncate("1mo").dt.date()).agg(
        received=received.sum(),
        received_online=(received & (pl.col("channel") == rules().online_channel)).sum(),
        digitised=(received & pl.col("components_digitised")).sum(),
        fee_bearing=fee_bearing.sum(),
        paid_online=(fee_bearing & pl.col("paid_online").is_in(rules().paid_online_codes)).sum(),
    )
    by_finished = final.filter(resolved).group_by(
        "unit_code", period_month=pl.col("finished_at").dt.truncate("1mo").dt.date()).agg(
        resolved=pl.len(),
        resolved_on_time=on_time.sum(),
        paper_result_resolved=paper.sum(),
        e_result_issued=(paper & pl.col("e_result")).sum(),
    )
    return (by_received.join(by_finished, on=["unit_code", "period_month"], how="full", coalesce=True)
            .with_columns([pl.col(m).fill_null(0).cast(pl.Int64) for m in MEASURES])
            .sort("unit_code", "period_month"))


def level_phase_rates(per_unit_month: pl.DataFrame, unit_levels: dict[str, str], period: Period) -> pl.DataFrame:
    """Pooled rates per level (tinh, huyen, xa, toan_tinh) for the baseline and the Directive window."""
    frame = per_unit_month.with_columns(
        level=pl.col("unit_code").replace_strict(unit_levels),
        phase=pl.when((pl.col("period_month") >= period.baseline_start) & (pl.col("period_month") < period.directive))
        .then(pl.lit("baseline"))
        .when((pl.col("period_month") >= period.directive) & (pl.col("period_month") < period.window_end_exclusive))
        .then(pl.lit("window")),
    ).filter(pl.col("phase").is_not_null())
    province = frame.with_columns(level=pl.lit("toan_tinh"))
    pooled = pl.concat([frame, province]).group_by("level", "phase").agg([pl.col(m).sum() for m in MEASURES])
    return pooled.with_columns([(pl.col(num) / pl.col(den)).alias(rate) for rate, (num, den) in RATES.items()])


def unit_window_rates(per_unit_month: pl.DataFrame, period: Period) -> pl.DataFrame:
    """Each unit's pooled rates over the Directive window."""
    window = per_unit_month.filter((pl.col("period_month") >= period.directive)
                                   & (pl.col("period_month") < period.window_end_exclusive))
    pooled = window.group_by("unit_code").agg([pl.col(m).sum() for m in MEASURES])
    return pooled.with_columns([
        pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).alias(rate) for rate, (num, den) in RATES.items()])


def overdue_dossiers(final: pl.DataFrame, snapshots: pl.DataFrame) -> pl.DataFrame:
    """Open dossiers (the rules' `open` statuses) whose visible due date is before as_of, the latest update in the
    exports, with the calendar days from the due date to as_of."""
    as_of = snapshots["updated_at"].max()
    return (final.filter(pl.col("status").is_in(rules().statuses["open"]) & pl.col("has_due")
                         & (pl.col("due_at") < as_of))
            .select("dossier_code", "unit_code", "due_at",
                    days_overdue=(pl.lit(as_of).dt.date() - pl.col("due_at").dt.date()).dt.total_days())
            .sort("dossier_code"))
