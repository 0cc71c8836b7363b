"""The 766 index estimate (issue #25, section 2) worked out in this test from the contract's words, dossier by
dossier from the facts, and compared with the marts the models built: every metric's numerator, denominator and
points, every unit-month's total, score and rank, and every lost dossier's points_if_passed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import polars as pl
import pytest

from contracts.rules import rules


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


@pytest.fixture(scope="module")
def built(small_built):
    with duckdb.connect(str(small_built), read_only=True) as con:
        return {
            "dossiers": con.sql("select d.*, coalesce(r.is_paper_result, false) as is_paper_result, "
                                "coalesce(r.is_e_result_issued, false) as is_e_result_issued "
                                "from facts.fct_dossiers d left join facts.fct_resolutions r using (dossier_code)").pl(),
            "units": con.sql("select unit_code, current_unit_code from facts.dim_units").pl(),
            "months": con.sql("select period_month from intermediate.int_months").pl(),
            "marts": con.sql("select * from marts.index766_unit_month").pl(),
            "losses": con.sql("select * from marts.index766_dossier_losses").pl(),
        }


def expected_counts(built) -> pl.DataFrame:
    """(current unit, month, metric) -> numerator, denominator, from the contract's definitions."""
    statuses = rules().statuses
    current = dict(built["units"].iter_rows())
    d = built["dossiers"].with_columns(
        reception_unit=pl.coalesce("received_unit_code", "unit_code").replace_strict(current, default=None),
        resolution_unit=pl.col("unit_code").replace_strict(current, default=None))
    received = d.filter("is_received")
    rows = [
        received.select(unit="reception_unit", month="received_month", metric=pl.lit("online_submission"),
                        passed="is_online"),
        received.select(unit="reception_unit", month="received_month", metric=pl.lit("digitisation"),
                        passed="is_digitised"),
        received.filter("is_fee_bearing").select(unit="reception_unit", month="received_month",
                                                 metric=pl.lit("online_payment"), passed="is_paid_online"),
        d.filter("is_resolved" & pl.col("is_paper_result")).select(
            unit="resolution_unit", month="resolved_month", metric=pl.lit("e_result"), passed="is_e_result_issued"),
        d.filter("is_resolved").select(unit="resolution_unit", month="resolved_month", metric=pl.lit("on_time"),
                                       passed="is_on_time"),
    ]
    # open at a month's end: received by its last day, not finished by then, never withdrawn or stopped
    ends = built["months"].with_columns(
        end=pl.col("period_month").map_elements(lambda m: datetime.combine(_next_month(m), datetime.min.time()),
                                                return_dtype=pl.Datetime("us")))
    candidates = d.filter(pl.col("is_received") & ~pl.col("status").is_in(statuses["withdrawn_or_stopped"]))
    open_at_end = candidates.join(ends, how="cross").filter(
        (pl.col("received_at") < pl.col("end"))
        & (pl.col("finished_at").is_null() | (pl.col("finished_at") >= pl.col("end"))))
    rows.append(open_at_end.select(unit="resolution_unit", month="period_month", metric=pl.lit("on_time"),
                                   passed=(pl.col("due_at") >= pl.col("end")).fill_null(False)))
    return (pl.concat(rows).group_by("unit", "month", "metric")
            .agg(numerator=pl.col("passed").sum().cast(pl.Int64), denominator=pl.len().cast(pl.Int64)))


def test_every_metric_total_score_and_rank_follows_the_contract(built):
    metrics = rules().index766
    marts = built["marts"].filter(pl.col("scope") == "current_unit")
    expected = expected_counts(built)
    joined = marts.join(expected, left_on=["unit_code", "period_month", "metric"],
                        right_on=["unit", "month", "metric"], how="left", suffix="_expected")
    # a unit-month with nothing for a metric has 0 / 0 in the mart and no row here
    assert (joined["numerator"] == joined["numerator_expected"].fill_null(0)).all()
    assert (joined["denominator"] == joined["denominator_expected"].fill_null(0)).all()
    assert expected.filter(pl.col("denominator") > 0).height == marts.filter(pl.col("denominator") > 0).height
    for r in marts.iter_rows(named=True):
        points = metrics[r["metric"]].points(r["numerator"], r["denominator"])
        assert (r["points"] is None) if points is None else abs(r["points"] - points) < 1e-9, r
        assert r["max_points"] == (metrics[r["metric"]].max_points if r["denominator"] else 0)
    totals = marts.group_by("unit_code", "level", "period_month").agg(
        total=pl.col("points").sum(), most=pl.col("max_points").sum(),
        score=pl.col("score_pct").first(), rank=pl.col("rank_in_level").first())
    totals = totals.with_columns(expected_score=pl.when(pl.col("most") > 0).then(pl.col("total") / pl.col("most")))
    assert ((totals["score"] - totals["expected_score"]).abs().fill_null(0) < 1e-12).all()
    for (level, month), group in totals.filter(pl.col("expected_score").is_not_null()).group_by("level", "period_month"):
        scores = group["expected_score"].to_list()
        for row in group.iter_rows(named=True):  # 1 + the number of units strictly better: ties share a rank
            assert row["rank"] == 1 + sum(s > row["expected_score"] + 1e-9 for s in scores), (level, month, row)
    # the online threshold is really exercised: some unit-month below 0.5 scores proportionally, most reach it
    online = marts.filter((pl.col("metric") == "online_submission") & (pl.col("denominator") > 0))
    assert (online["ratio"] >= 0.5).sum() > 0 and online.filter(pl.col("ratio") >= 0.5)["points"].min() == 6.0


def test_every_lost_dossier_gives_back_what_passing_it_would_give(built):
    metrics = rules().index766
    marts = built["marts"].filter(pl.col("scope") == "current_unit")
    losses = built["losses"]
    counts = losses.group_by("current_unit_code", "period_month", "metric").agg(lost=pl.len())
    joined = marts.join(counts, left_on=["unit_code", "period_month", "metric"],
                        right_on=["current_unit_code", "period_month", "metric"], how="left")
    assert (joined["lost"].fill_null(0) == joined["denominator"] - joined["numerator"]).all()
    with_counts = losses.join(marts.select("unit_code", "period_month", "metric", "numerator", "denominator"),
                              left_on=["current_unit_code", "period_month", "metric"],
                              right_on=["unit_code", "period_month", "metric"])
    for r in with_counts.sample(min(5000, with_counts.height), seed=1).iter_rows(named=True):
        metric = metrics[r["metric"]]
        gain = metric.points(r["numerator"] + 1, r["denominator"]) - metric.points(r["numerator"], r["denominator"])
        assert abs(r["points_if_passed"] - gain) < 1e-9, r
        assert r["reason"] in metric.fails.values()
    assert set(losses["metric"]) == set(metrics)
    assert not [c for c in losses.columns if c.startswith(("applicant", "id_hash"))]


def test_points_follow_the_var_formulas_at_the_edges():
    metrics = rules().index766
    online = metrics["online_submission"]
    assert online.points(1, 4) == pytest.approx(3.0) and online.points(1, 2) == 6.0 and online.points(9, 10) == 6.0
    assert online.points(6, 10) - online.points(5, 10) == 0  # past the threshold, one more online dossier adds 0
    assert metrics["online_payment"].points(0, 0) is None  # a unit with no fee-bearing dossier: nothing to score
    assert metrics["on_time"].points(3, 4) == 15.0
    assert sum(m.max_points for m in metrics.values()) == 42
