"""The generator's ground truth: the contract's measures computed on the dossiers' final visible states.

Independent of the pipeline (no DuckDB, no dbt): it is what the marts must reproduce.
"""

from __future__ import annotations

import polars as pl

from contracts.rules import rules
from contracts.vocabulary import LATEST_AHEAD_OF_INGESTION
from sample_province.dossiers import Period

MEASURES = tuple(rules().measures)
RATES = rules().rates


def as_ingested(dossiers: pl.DataFrame, snapshots: pl.DataFrame, ingested_at) -> pl.DataFrame:
    """The snapshots the landing contract keeps when the exports are ingested at `ingested_at`: one showing a due date
    later than a day after that moment is quarantined (landing.md: a timestamp later than one day after the moment
    of ingestion), so each dossier's last state is its last snapshot kept. Exports of past years lose nothing."""
    cutoff = ingested_at + LATEST_AHEAD_OF_INGESTION
    kept = (snapshots.join(dossiers.select("dossier_id", "due_at"), on="dossier_id")
            .filter(~(pl.col("has_due") & (pl.col("due_at") > cutoff))).drop("due_at"))
    return kept.with_columns(is_last=pl.col("updated_at") == pl.col("updated_at").max().over("dossier_id"))


def final_states(dossiers: pl.DataFrame, snapshots: pl.DataFrame) -> pl.DataFrame:
    """Each dossier's last visible state, with the unit holding it then (`current_unit_code`: resolutions, the
    overdue list) and the unit of its earliest snapshot that counts as received (`received_unit_code`)."""
    held = pl.coalesce("snapshot_unit_code", "unit_code") if "snapshot_unit_code" in snapshots.columns \
        else pl.col("unit_code")
    with_units = snapshots.join(dossiers.select("dossier_id", "unit_code"), on="dossier_id").with_columns(holder=held)
    received = (with_units.filter(~pl.col("status").is_in(rules().statuses["not_received"]))
                .sort("dossier_id", "updated_at").group_by("dossier_id", maintain_order=True)
                .agg(received_unit_code=pl.col("holder").first()))
    last = with_units.filter("is_last").select("dossier_id", current_unit_code="holder")
    return (dossiers.join(snapshots.filter("is_last"), on="dossier_id", how="inner")
            .join(last, on="dossier_id").join(received, on="dossier_id", how="left")
            .with_columns(received_unit_code=pl.coalesce("received_unit_code", "current_unit_code")))


def unit_month(final: pl.DataFrame, paper_result_codes: set[str]) -> pl.DataFrame:
    """Measures per unit and calendar month, as kpis.md defines them."""
    statuses = rules().statuses
    received = ~pl.col("status").is_in(statuses["not_received"])
    fee_bearing = received & (pl.col("fee_amount") > 0)
    resolved = pl.col("status").is_in(statuses["resolved"])
    on_time = pl.col("finished_at") <= pl.col("due_at")
    paper = pl.col("procedure_code").is_in(list(paper_result_codes))
    by_received = final.group_by(unit_code="received_unit_code",
                                 period_month=pl.col("received_at").dt.truncate("1mo").dt.date()).agg(
        received=received.sum(),
        received_online=(received & (pl.col("channel") == rules().online_channel)).sum(),
        digitised=(received & pl.col("components_digitised")).sum(),
        fee_bearing=fee_bearing.sum(),
        paid_online=(fee_bearing & pl.col("paid_online").is_in(rules().paid_online_codes)).sum(),
    )
    by_finished = final.filter(resolved).group_by(
        unit_code="current_unit_code", period_month=pl.col("finished_at").dt.truncate("1mo").dt.date()).agg(
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
            .select("dossier_code", unit_code="current_unit_code", due_at="due_at",
                    days_overdue=(pl.lit(as_of).dt.date() - pl.col("due_at").dt.date()).dt.total_days())
            .sort("dossier_code"))


def current_units(units) -> dict[str, str]:
    """Each unit's current unit: its successors followed to a unit without one (reference.Unit list)."""
    successor = {u.code: u.successor_code for u in units if u.successor_code}
    out = {}
    for u in units:
        code = u.code
        while code in successor:
            code = successor[code]
        out[u.code] = code
    return out


def current_unit_month(per_unit_month: pl.DataFrame, units) -> pl.DataFrame:
    """The measures per current unit and month: every unit pooled under the unit its history runs to today."""
    mapping = current_units(units)
    return (per_unit_month.with_columns(current_unit_code=pl.col("unit_code").replace_strict(mapping))
            .group_by("current_unit_code", "period_month").agg([pl.col(m).sum() for m in MEASURES])
            .sort("current_unit_code", "period_month"))


def _rates(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """One row per key and indicator with the pooled window value (NULL when the denominator is 0)."""
    pooled = frame.group_by(keys).agg([pl.col(m).sum() for m in MEASURES])
    return pl.concat([pooled.select(*keys, indicator=pl.lit(rate),
                                    window_value=pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)))
                      for rate, (num, den) in RATES.items()])


def programme_scores(per_unit_month: pl.DataFrame, units, programmes, as_of) -> pl.DataFrame:
    """Each programme's window values (kpis.md, Programmes) by scope: unit, level (and toan_tinh), and current_unit
    (the units valid on the window's last day, each pooled over itself and its predecessors)."""
    from datetime import date, timedelta

    last_complete_day = date(as_of.year, as_of.month, 1) - timedelta(days=1)
    level_of = {u.code: u.level for u in units}
    out = []
    for code, _, effective, _, end in programmes:
        window_end = min(last_complete_day, end or last_complete_day)
        if window_end < effective:
            continue
        first = date(effective.year, effective.month, 1)
        last = date(window_end.year, window_end.month, 1)
        window = per_unit_month.filter(pl.col("period_month").is_between(first, last)).with_columns(
            level=pl.col("unit_code").replace_strict(level_of))
        scored = [_rates(window, ["unit_code", "level"]).with_columns(scope=pl.lit("unit")),
                  _rates(window, ["level"]).with_columns(scope=pl.lit("level"), unit_code=pl.lit(None, pl.String)),
                  _rates(window.with_columns(level=pl.lit("toan_tinh")), ["level"]).with_columns(
                      scope=pl.lit("level"), unit_code=pl.lit(None, pl.String))]
        scored.append(_current_unit_rates(window, units, window_end))
        out += [s.select("scope", "unit_code", "level", "indicator", "window_value").with_columns(
            programme_code=pl.lit(code)) for s in scored]
    return pl.concat(out)


def _current_unit_rates(window: pl.DataFrame, units, day) -> pl.DataFrame:
    """Scope current_unit: the units valid on `day`, each pooled over itself and every predecessor its chain passes
    through (`window`: unit-months with their level)."""
    level_of = {u.code: u.level for u in units}
    successor = {u.code: u.successor_code for u in units if u.successor_code}
    valid = {u.code for u in units if u.valid_from <= day and (u.valid_to is None or u.valid_to >= day)}
    members = []
    for u in units:
        hop = u.code
        while True:
            if hop in valid:
                members.append((u.code, hop))
            if hop not in successor:
                break
            hop = successor[hop]
    pooled = window.join(pl.DataFrame(members, schema=["unit_code", "current_unit_code"], orient="row"),
                         on="unit_code").drop("unit_code", "level")
    return _rates(pooled.rename({"current_unit_code": "unit_code"}).with_columns(
        level=pl.col("unit_code").replace_strict(level_of)), ["unit_code", "level"]).with_columns(
        scope=pl.lit("current_unit"))


def programme_years(per_unit_month: pl.DataFrame, units, programmes, as_of) -> pl.DataFrame:
    """The annual assessment's values (kpis.md, Annual assessment): per programme and calendar year, the part of
    the year inside the programme's window, by scope unit and current_unit (valid on that part's last day)."""
    from datetime import date, timedelta

    last_complete_day = date(as_of.year, as_of.month, 1) - timedelta(days=1)
    level_of = {u.code: u.level for u in units}
    years = sorted({m.year for m in per_unit_month["period_month"]})
    out = []
    for code, _, effective, _, end in programmes:
        window_end = min(last_complete_day, end or last_complete_day)
        for year in years:
            start, stop = max(effective, date(year, 1, 1)), min(window_end, date(year, 12, 31))
            if stop < start:
                continue
            window = per_unit_month.filter(pl.col("period_month").is_between(
                date(start.year, start.month, 1), date(stop.year, stop.month, 1))).with_columns(
                level=pl.col("unit_code").replace_strict(level_of))
            for scored in (_rates(window, ["unit_code", "level"]).with_columns(scope=pl.lit("unit")),
                           _current_unit_rates(window, units, stop)):
                out.append(scored.select("scope", "unit_code", "level", "indicator", value="window_value")
                           .with_columns(programme_code=pl.lit(code), year=pl.lit(year),
                                         is_complete_year=pl.lit(stop == date(year, 12, 31))))
    return pl.concat(out)
