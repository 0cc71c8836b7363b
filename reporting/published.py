"""The published marts a report pack is made of, read once from the published file (read-only, never the working
warehouse), for one report month."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from contracts.rules import rules
from contracts.vocabulary import INDICATORS
from reporting.labels import CHECK_LABELS, LEVELS, OTHER_CHECK_LABEL, month_label
from storage.duckdb_connection import DuckDBLimits, connect


def open_published(path: Path, limits: DuckDBLimits | None = None) -> duckdb.DuckDBPyConnection:
    """The published file, read-only, attached under the fixed alias `published` whatever the file is called (a
    file named `marts.duckdb` would otherwise give a catalog `marts`, ambiguous with its schema `marts`). Its schema
    `marts` is the default: `marts.<table>` and `<table>` both name a published table. `limits`: the settings'
    (default: storage.duckdb_connection's)."""
    con = connect(limits=limits)
    try:
        con.execute(f"attach '{path}' as published (read_only)")
        con.execute("use published.marts")
    except BaseException:
        con.close()
        raise
    return con


class ReportError(Exception):
    """The pack cannot be made (no published file, a month outside the data): the message says what to do."""


def report_month(text: str | None) -> date | None:
    """A report month as written by people and configs (YYYY-MM: `tthc report --month`, the reports asset's
    config); None when none is given (the default month)."""
    if not text:
        return None
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ReportError(f"{text!r}: give a month as YYYY-MM, for example 2024-01") from None


@dataclass(frozen=True)
class QualityStatus:
    """The checks of the run that published the data (the latest run in marts.data_quality_runs)."""

    run_id: str | None
    run_at: datetime | None
    checks: int
    blocking_failed: int
    warnings: tuple[str, ...]  # names of the checks that warned

    @property
    def label(self) -> str:
        if self.run_id is None:
            return "Chưa có lần kiểm tra nào được ghi nhận"
        text = (f"Lần chạy {self.run_at:%d/%m/%Y %H:%M}: {self.checks} kiểm tra, "
                + ("mọi kiểm tra chặn đều đạt" if not self.blocking_failed else f"{self.blocking_failed} kiểm tra chặn không đạt"))
        said = sorted({CHECK_LABELS.get(name, OTHER_CHECK_LABEL) for name in self.warnings})
        return text + (f"; {len(self.warnings)} cảnh báo: {'; '.join(said)}" if self.warnings else "; không có cảnh báo")


@dataclass(frozen=True)
class Programme:
    """The programme a pack scores (programme_scorecard): its name, window and baseline."""

    code: str
    name: str
    window: tuple[date, date]
    baseline: tuple[date, date] | None
    ended: bool = False  # its window closed before the report month: it is reported as ended

    @property
    def title(self) -> str:
        return f"{self.name} (đã kết thúc {self.window[1]:%d/%m/%Y})" if self.ended else self.name


def scored_programmes(con: duckdb.DuckDBPyConnection) -> list[Programme]:
    """Every programme of the published scorecard (a connection from open_published), with its window and baseline."""
    return [Programme(code, name or code, (start, end), (b_start, b_end) if b_start else None)
            for code, name, start, end, b_start, b_end in con.execute(
                "select distinct programme_code, programme_name, window_start, window_end, baseline_start, "
                "baseline_end from programme_scorecard where scope = 'level'").fetchall()]


def choose_programme(programmes: list[Programme], month: date, wanted: str | None = None) -> Programme | None:
    """The programme in force in `month` (kpis.md, Programmes): the one whose window contains the month, the latest
    start winning when two do; when none does, the latest that ended before it (marked ended). `wanted`: that
    programme, whatever the month. None when no programme is scored yet (no complete month)."""
    if wanted is not None:
        found = [p for p in programmes if p.code == wanted]
        if not found:
            raise ReportError(f"no programme {wanted!r} in the published scorecard; scored programmes: "
                              f"{', '.join(sorted(p.code for p in programmes)) or 'none yet'}")
        chosen = found[0]
        return replace(chosen, ended=chosen.window[1] < month)
    last_day = month_end(month)
    containing = [p for p in programmes if p.window[0] <= last_day and p.window[1] >= month]
    if containing:
        return max(containing, key=lambda p: (p.window[0], p.code))
    ended = [p for p in programmes if p.window[1] < month]
    if ended:
        return replace(max(ended, key=lambda p: (p.window[1], p.window[0], p.code)), ended=True)
    return min(programmes, key=lambda p: (p.window[0], p.code)) if programmes else None


def month_end(month: date) -> date:
    """The last day of the month of `month`."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


LOSSES_LISTED = 1000  # a unit's dossiers that cost it 766 points, listed in its workbook (with the total)


@dataclass(frozen=True)
class PublishedMarts:
    """Frames of the published marts, with the report month and the programme (window, targets) they are scored
    against."""

    source: Path
    month: date  # first day of the report month
    months: tuple[date, ...]  # every month of the data, ascending
    as_of: datetime | None
    window: tuple[date, date] | None
    baseline: tuple[date, date] | None
    quality: QualityStatus
    level_scorecard: pl.DataFrame  # level, indicator, window_value, baseline_value, change_pp, target, meets_target
    # the listed units' rows: a current unit over its predecessors (scope current_unit), an ended one its own;
    # unit_code, level, indicator, window_denominator, window_value, ..., meets_target, judged
    unit_scorecard: pl.DataFrame
    summary: pl.DataFrame  # level, indicator, target, units_total, units_meeting_target (the marts' counts)
    units: pl.DataFrame  # unit_code, unit_name, level of every unit valid on the report month's last day
    unit_names: dict[str, str]  # every unit of the reference, ended ones too
    unit_month: pl.DataFrame  # the listed units' months: pooled over predecessors for a current unit
    level_of: dict[str, str]  # every unit of the reference -> its level
    level_month: pl.DataFrame  # kpi_level_month
    overdue: pl.DataFrame  # overdue_dossiers
    discrepancies: pl.DataFrame  # unit_report_discrepancies, with unit_name
    unexplained: pl.DataFrame  # late_dossiers not explained, with unit_name and level
    explanations_month: pl.DataFrame  # late_explanations_unit_month
    # the 766 estimate (index766_unit_month, both scopes) up to the report month, and the report month's dossiers
    # that cost points: per current unit the LOSSES_LISTED that would give most back, with the unit's total
    index766: pl.DataFrame | None = None
    index766_losses: pl.DataFrame | None = None
    provisional: bool = False  # the report month is not complete: its figures may still change
    programme: Programme | None = None  # the programme scored; None while none is (no complete month yet)

    @property
    def programme_title(self) -> str:
        return self.programme.title if self.programme else "chương trình (chưa có tháng đủ số liệu)"

    @property
    def programme_short(self) -> str:
        """What the window is called in a column header or a chart."""
        return self.programme.name if self.programme else "chương trình"

    @property
    def month_label(self) -> str:
        return month_label(self.month)

    @property
    def levels(self) -> tuple[str, ...]:
        """The levels the pack shows: the province, and each unit level with a unit valid on the month's last day
        (the district level ended on 1 July 2025: it is not shown for a later month)."""
        present = set(self.units.get_column("level").to_list())
        return tuple(lv for lv in LEVELS if lv == "toan_tinh" or lv in present)

    @property
    def unit_levels(self) -> tuple[str, ...]:
        return tuple(lv for lv in self.levels if lv != "toan_tinh")

    def meeting(self) -> dict[tuple[str, str], tuple[int, int, int]]:
        """(level, indicator) -> (units meeting, units judged, units not judged: fewer dossiers than the rules'
        min_dossiers_to_judge) over the listed units."""
        rows = self.unit_scorecard.filter(pl.col("window_value").is_not_null()).group_by("level", "indicator").agg(
            meeting=(pl.col("judged") & pl.col("meets_target")).sum(), judged=pl.col("judged").sum(),
            not_judged=(~pl.col("judged")).sum())
        return {(r["level"], r["indicator"]): (r["meeting"], r["judged"], r["not_judged"])
                for r in rows.iter_rows(named=True)}

    def targets(self) -> dict[tuple[str, str], float]:
        """(level, indicator) -> target, every level (toan_tinh too)."""
        return {(r["level"], r["indicator"]): r["target"]
                for r in self.level_scorecard.filter(pl.col("target").is_not_null()).iter_rows(named=True)}

    def last_months(self, count: int) -> list[date]:
        """The `count` months up to the report month, ascending."""
        return [m for m in self.months if m <= self.month][-count:]


def read_published(published: Path, month: date | None = None, provisional: bool = False,
                   programme: str | None = None, limits: DuckDBLimits | None = None) -> PublishedMarts:
    """The marts of the published file, for `month` (default: the latest complete month).

    A month that is not complete (its data may still change) is refused, naming the complete months, unless
    `provisional`: then it is read, marked provisional, and with no month given the latest month is chosen when
    no month is complete yet. The programme scored is the one in force in the report month (choose_programme), or
    `programme`; a month before its window is refused unless `provisional`."""
    if not published.exists():
        raise ReportError(f"no published marts at {published}: run `tthc run` first (TTHC_PUBLISHED)")
    with open_published(published, limits) as con:

        def frame(sql: str, params: list | None = None) -> pl.DataFrame:
            return con.sql(sql, params=params).pl()

        months = [r[0] for r in con.execute(
            "select period_month, bool_and(is_complete_month) from kpi_level_month group by 1 order by 1").fetchall()]
        complete = [r[0] for r in con.execute(
            "select period_month from kpi_level_month group by 1 having bool_and(is_complete_month) order by 1").fetchall()]
        if not months:
            raise ReportError(f"{published} holds no month of data: nothing to report")
        if month is None:
            month = complete[-1] if complete else months[-1]
        month = month.replace(day=1)
        if month not in months:
            raise ReportError(f"no data for {month_label(month)} in {published}: the months published are "
                              f"{month_label(months[0])} to {month_label(months[-1])}")
        if month not in complete and not provisional:
            available = (f"the complete months are {month_label(complete[0])} to {month_label(complete[-1])}"
                         if complete else "no month is complete yet")
            raise ReportError(f"{month_label(month)} is not a complete month in {published} ({available}; "
                              f"months with data: {month_label(months[0])} to {month_label(months[-1])}): give "
                              f"--month, or --provisional for a pack marked provisional")
        chosen = choose_programme(scored_programmes(con), month, programme)
        if chosen is not None and month < chosen.window[0].replace(day=1) and not provisional:
            raise ReportError(f"{month_label(month)} is before the window of {chosen.name} (from "
                              f"{chosen.window[0]:%d/%m/%Y}; months with data: {month_label(months[0])} to "
                              f"{month_label(months[-1])}): give a later --month, or --provisional")
        # the units valid on the month's last day; one that is still current is scored over its predecessors
        last_day = month_end(month)
        listed = (f"select unit_code, unit_name, level, current_unit_code = unit_code as is_current from unit_lineage "
                  f"where valid_from <= date '{last_day}' and (valid_to is null or valid_to >= date '{last_day}')")
        scorecard = frame(
            "with listed as (" + listed + "), card as (select * from programme_scorecard where programme_code = $1) "
            "select 'level' as scope, unit_code, level, indicator, window_start, window_end, baseline_start, "
            "baseline_end, window_denominator, window_value, baseline_value, change_pp, target, meets_target "
            "from card where scope = 'level' union all "
            "select 'unit', c.unit_code, c.level, indicator, window_start, window_end, baseline_start, baseline_end, "
            "window_denominator, window_value, baseline_value, change_pp, target, meets_target from card c "
            "join listed l on l.unit_code = c.unit_code "
            "and c.scope = case when l.is_current then 'current_unit' else 'unit' end",
            [chosen.code if chosen else None])
        scorecard = scorecard.with_columns(
            judged=pl.col("window_denominator").fill_null(0) >= rules().min_dossiers_to_judge)
        run = con.execute("select run_id, max(run_at) from data_quality_runs group by run_id "
                          "order by max(run_at) desc limit 1").fetchall()
        run = run[0] if run else None
        checks = con.execute(
            "select count(*), count(*) filter (not passed and severity = 'error'), "
            "coalesce(list(distinct check_name order by check_name) filter (not passed and severity = 'warn'), []) "
            "from data_quality_runs where run_id = ?", [run[0] if run else None]).fetchall()[0]
        as_of = con.execute("select max(as_of) from overdue_dossiers").fetchall()[0][0]
        has_766 = bool(con.execute("select count(*) from information_schema.tables where table_catalog = 'published' "
                                   "and table_name = 'index766_dossier_losses'").fetchall()[0][0])
        marts = PublishedMarts(
            source=published,
            month=month,
            months=tuple(months),
            as_of=as_of,
            window=chosen.window if chosen else None,
            baseline=chosen.baseline if chosen else None,
            quality=QualityStatus(run[0] if run else None, run[1] if run else None, checks[0], checks[1],
                                  tuple(checks[2])),
            level_scorecard=scorecard.filter(pl.col("scope") == "level").drop("scope", "unit_code"),
            unit_scorecard=scorecard.filter(pl.col("scope") == "unit").drop("scope"),
            summary=frame("select level, indicator, target, units_total, units_meeting_target from programme_summary "
                          "where programme_code = $1", [chosen.code if chosen else None]),
            # the units valid in the report month: a unit that ended (merged, abolished) gets no report
            units=frame(f"select unit_code, unit_name, level from ({listed}) order by unit_code"),
            unit_names=dict(con.execute("select unit_code, unit_name from unit_lineage").fetchall()),
            unit_month=frame(
                f"with listed as ({listed}) "
                "select k.* exclude (current_unit_code, units_pooled), k.current_unit_code as unit_code "
                "from kpi_current_unit_month k join listed l on l.unit_code = k.current_unit_code and l.is_current "
                "union all by name select k.* from kpi_unit_month k join listed l on l.unit_code = k.unit_code "
                "and not l.is_current order by unit_code, period_month"),
            level_of=dict(con.execute("select unit_code, level from unit_lineage").fetchall()),
            level_month=frame("select * from kpi_level_month order by level, period_month"),
            overdue=frame("select dossier_code, unit_code, unit_name, level, procedure_code, status, received_at, "
                          "due_at, days_overdue from overdue_dossiers order by unit_code, days_overdue desc, dossier_code"),
            unexplained=frame("select l.dossier_code, l.unit_code, u.unit_name, u.level, l.procedure_code, l.due_at, "
                              "l.finished_at, l.is_open, l.days_late from late_dossiers l "
                              "left join unit_lineage u using (unit_code) where not l.explained "
                              "order by l.unit_code, l.days_late desc, l.dossier_code"),
            explanations_month=frame("select * from late_explanations_unit_month order by unit_code, period_month"),
            # a file published before the 766 estimate existed has no such table: the documents leave it out
            index766=None if not has_766 else frame("select * from index766_unit_month where period_month <= $1 "
                                                    "order by scope, level, unit_code, period_month", [month]),
            index766_losses=None if not has_766 else frame(
                "select current_unit_code as unit_code, dossier_code, procedure_code, metric, reason, "
                "points_if_passed, count(*) over (partition by current_unit_code) as lost_total "
                "from index766_dossier_losses where period_month = $1 qualify row_number() over ("
                "partition by current_unit_code order by points_if_passed desc, dossier_code, metric) <= $2 "
                "order by unit_code, points_if_passed desc, dossier_code, metric", [month, LOSSES_LISTED]),
            provisional=month not in complete,
            programme=chosen,
            discrepancies=frame("select d.unit_code, u.unit_name, d.period_month, d.measure, d.reported_value, "
                                "d.system_value, d.rule, d.severity, d.detail, d.submitted_at "
                                "from unit_report_discrepancies d left join (select distinct on (unit_code) unit_code, "
                                "unit_name from kpi_unit_month order by unit_code, period_month desc) u using (unit_code) "
                                "order by d.period_month desc, d.unit_code, d.rule, d.measure"),
        )
    missing = set(INDICATORS) - set(marts.level_scorecard.get_column("indicator").to_list())
    if marts.window is not None and missing:
        raise ReportError(f"{published}: the scorecard has no level row for {', '.join(sorted(missing))}")
    return window_to_date(marts)


def window_to_date(marts: PublishedMarts) -> PublishedMarts:
    """The scorecard over the programme's window from its start to the report month: for an earlier month than
    the window's last, every window value (levels and listed units) pooled again from the monthly marts, sums of
    numerators over sums of denominators as kpis.md pools, against the same baseline and targets. The window's
    last month keeps the published scorecard as it is."""
    if marts.window is None or month_end(marts.month) >= marts.window[1]:
        return marts
    start, end = marts.window[0].replace(day=1), month_end(marts.month)
    measures = sorted({m for pair in rules().rates.values() for m in pair})

    def pooled(frame: pl.DataFrame, key: str) -> pl.DataFrame:
        sums = (frame.filter(pl.col("period_month").is_between(start, end)).group_by(key)
                .agg(pl.col(m).sum() for m in measures))
        return pl.concat([sums.select(key, indicator=pl.lit(rate), to_date_denominator=pl.col(den),
                                      to_date_value=pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)))
                          for rate, (num, den) in rules().rates.items()])

    def rescored(card: pl.DataFrame, to_date: pl.DataFrame, key: str) -> pl.DataFrame:
        value = pl.col("to_date_value")
        return (card.join(to_date, on=[key, "indicator"], how="left").with_columns(
            window_end=pl.lit(end), window_value=value, window_denominator=pl.col("to_date_denominator").fill_null(0),
            change_pp=(value - pl.col("baseline_value")) * 100,
            meets_target=pl.when(value.is_not_null() & pl.col("target").is_not_null()).then(value >= pl.col("target")))
            .drop("to_date_value", "to_date_denominator"))

    units = rescored(marts.unit_scorecard, pooled(marts.unit_month, "unit_code"), "unit_code").with_columns(
        judged=pl.col("window_denominator") >= rules().min_dossiers_to_judge)
    return replace(marts, window=(marts.window[0], end),
                   level_scorecard=rescored(marts.level_scorecard, pooled(marts.level_month, "level"), "level"),
                   unit_scorecard=units)


