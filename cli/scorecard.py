"""`tthc scorecard`: a programme's scorecard from the published marts file, for a terminal (a table) or another tool
(CSV, JSON): by default the programme in force in the latest complete month."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from contracts.vocabulary import INDICATORS
from reporting.labels import INDICATOR_LABELS, LEVELS, MEETS_LABELS
from reporting.labels import LEVEL_LABELS as LEVEL_NAMES
from reporting.published import choose_programme, open_published, scored_programmes
from storage.duckdb_connection import DuckDBLimits, fetch_dicts

LEVEL_ORDER = {level: n for n, level in enumerate(LEVELS)}
INDICATOR_ORDER = {indicator: n for n, indicator in enumerate(INDICATORS)}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def landing_text(value) -> Text:
    """Text from the landing (a unit's or programme's name) as the terminal should show it: control characters
    (escape sequences, bidirectional overrides) replaced by `�`, and never read as Rich markup."""
    return Text(_CONTROL.sub("\ufffd", "" if value is None else str(value)))


def _pct(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def programme_in_force(published: Path, limits: DuckDBLimits | None = None) -> str | None:
    """The code of the programme in force in the latest complete month of the published file (kpis.md,
    Programmes; reporting.published.choose_programme), or None when none is scored yet."""
    with open_published(published, limits) as con:
        programmes = scored_programmes(con)
        latest = con.execute("select max(period_month) from kpi_level_month where is_complete_month").fetchall()[0][0]
    chosen = choose_programme(programmes, latest or date.max.replace(day=1))
    return chosen.code if chosen else None


def scorecard_rows(published: Path, programme: str, limits: DuckDBLimits | None = None
                   ) -> tuple[list[dict], list[dict], dict[tuple[str, str], tuple[int, int]]]:
    """(level rows, unit rows, (indicator, level) -> (units meeting, units total)) of a programme, from the
    published file; rows in the contract's order of indicators, then levels, then units."""
    with open_published(published, limits) as con:
        records = fetch_dicts(
            con, "select s.*, u.unit_name from marts.programme_scorecard s "
                 "left join (select distinct unit_code, unit_name from marts.unit_lineage) u using (unit_code) "
                 "where s.programme_code = ? and s.scope in ('unit', 'level') order by unit_code nulls first",
            [programme])
        summary = con.execute(
            "select indicator, level, units_meeting_target, units_total from marts.programme_summary "
            "where programme_code = ?", [programme]).fetchall()
        if not records:
            known = [c for (c,) in con.execute(
                "select distinct programme_code from marts.programme_scorecard order by 1").fetchall()]
            raise LookupError(f"no programme {programme!r} in {published}; scored programmes: {', '.join(known) or 'none'}")
    levels = sorted((r for r in records if r["scope"] == "level"),
                    key=lambda r: (INDICATOR_ORDER.get(r["indicator"], 99), LEVEL_ORDER.get(r["level"], 9)))
    units = sorted((r for r in records if r["scope"] == "unit"),
                   key=lambda r: (INDICATOR_ORDER.get(r["indicator"], 99), LEVEL_ORDER.get(r["level"], 9),
                                  r["unit_code"]))
    return levels, units, {(i, lv): (m, t) for i, lv, m, t in summary}


EXPLAINED_RATES = """
        select coalesce(level, 'toan_tinh') as level, sum(late), sum(late_explained), sum(with_apology)
        from marts.late_explanations_unit_month
        where period_month between date_trunc('month', ?::date) and ?::date and level is not null
        group by grouping sets ((level), ())
        order by case coalesce(level, 'toan_tinh') when 'toan_tinh' then 0 when 'tinh' then 1 when 'huyen' then 2 else 3 end"""


def explained_rates(published: Path, start, end, limits: DuckDBLimits | None = None) -> list[tuple]:
    """(level, late, explained, with apology) pooled over the months of a window, and for the province."""
    with open_published(published, limits) as con:
        return con.execute(EXPLAINED_RATES, [start, end]).fetchall()


def select_units(units: list[dict], unit: str | None, failing: bool) -> list[dict]:
    """The unit rows asked for: one unit's (`unit`), those below their target (`failing`), or all."""
    if unit is not None:
        units = [r for r in units if r["unit_code"] == unit]
        if not units:
            raise LookupError(f"no unit {unit!r} is scored in this programme (see `tthc scorecard --units`)")
    if failing:
        units = sorted((r for r in units if r["meets_target"] is False),
                       key=lambda r: (INDICATOR_ORDER.get(r["indicator"], 99), LEVEL_ORDER.get(r["level"], 9),
                                      r["window_value"] - r["target"], r["unit_code"]))
    return units


def _record(r: dict, summary: dict) -> dict:
    """One row for CSV and JSON: codes and numbers, with the Vietnamese labels beside them."""
    meeting = summary.get((r["indicator"], r["level"])) if r["scope"] == "level" else None
    return {"programme_code": r["programme_code"], "scope": r["scope"], "unit_code": r["unit_code"],
            "unit_name": r.get("unit_name"), "level": r["level"], "level_label": LEVEL_NAMES.get(r["level"], r["level"]),
            "indicator": r["indicator"], "indicator_label": INDICATOR_LABELS.get(r["indicator"], r["indicator"]),
            "window_start": r["window_start"], "window_end": r["window_end"], "window_value": r["window_value"],
            "baseline_value": r["baseline_value"], "change_pp": r["change_pp"], "target": r["target"],
            "meets_target": r["meets_target"], "units_meeting_target": meeting[0] if meeting else None,
            "units_total": meeting[1] if meeting else None}


def render_scorecard(published: Path, console: Console, programme: str, show_units: bool = False,
                     unit: str | None = None, failing: bool = False, codes: bool = False, fmt: str = "table",
                     out: io.TextIOBase | None = None, limits: DuckDBLimits | None = None) -> None:
    """The scorecard of `programme`: its level rows, with the unit rows asked for (every unit, one, or those below
    their target), as a table on `console` or as CSV or JSON on `out`."""
    levels, units, summary = scorecard_rows(published, programme, limits)
    chosen_units = select_units(units, unit, failing) if (show_units or unit or failing) else []
    if fmt in ("csv", "json"):
        rows = [_record(r, summary) for r in ([] if unit else levels) + chosen_units]
        if fmt == "json":
            out.write(json.dumps(rows, ensure_ascii=False, default=str, indent=1) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=list(_record(levels[0], summary)), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        return

    def indicator(code: str):
        return code if codes else INDICATOR_LABELS.get(code, code)

    first = levels[0]
    table = Table(title=landing_text(f"{first['programme_name'] or programme} — giai đoạn {first['window_start']:%d/%m/%Y}"
                                     f" – {first['window_end']:%d/%m/%Y}; kỳ gốc "
                                     + (f"{first['baseline_start']:%d/%m/%Y} – {first['baseline_end']:%d/%m/%Y}"
                                        if first["baseline_start"] else "không có")))
    if not unit:
        for column in ("chỉ tiêu", "cấp", "cả giai đoạn", "kỳ gốc", "thay đổi (điểm %)", "mục tiêu", "đánh giá",
                       "đơn vị đạt"):
            table.add_column(column, justify="left" if column in ("chỉ tiêu", "cấp", "đánh giá") else "right")
        for r in levels:
            meeting = summary.get((r["indicator"], r["level"]))
            table.add_row(indicator(r["indicator"]), LEVEL_NAMES.get(r["level"], r["level"]), _pct(r["window_value"]),
                          _pct(r["baseline_value"]), "" if r["change_pp"] is None else f"{r['change_pp']:+.1f}",
                          _pct(r["target"]), MEETS_LABELS.get(r["meets_target"], ""),
                          f"{meeting[0]}/{meeting[1]}" if meeting else "")
        console.print(table)
        explained = explained_rates(published, first["window_start"], first["window_end"], limits)
        if explained and not failing:
            rates = Table(title="Hồ sơ trễ hạn được đơn vị giải trình, các tháng của giai đoạn")
            for column in ("cấp", "trễ hạn", "đã giải trình", "tỷ lệ giải trình", "có văn bản xin lỗi"):
                rates.add_column(column, justify="left" if column == "cấp" else "right")
            for level, late, done, apology in explained:
                rates.add_row(LEVEL_NAMES.get(level, level), f"{late:,}", f"{done:,}",
                              _pct(done / late if late else None), f"{apology:,}")
            console.print(rates)
    if chosen_units or unit or failing:
        title = ("Đơn vị chưa đạt mục tiêu" if failing else "Đơn vị") + (f" {unit}" if unit else "")
        unit_table = Table(title=title)
        for column in ("chỉ tiêu", "đơn vị", "cấp", "cả giai đoạn", "kỳ gốc", "thay đổi (điểm %)", "mục tiêu",
                       "đánh giá"):
            unit_table.add_column(column)
        for r in chosen_units:
            unit_table.add_row(indicator(r["indicator"]), landing_text(f"{r['unit_code']} {r['unit_name'] or ''}"),
                               LEVEL_NAMES.get(r["level"], r["level"]), _pct(r["window_value"]),
                               _pct(r["baseline_value"]), "" if r["change_pp"] is None else f"{r['change_pp']:+.1f}",
                               _pct(r["target"]), MEETS_LABELS.get(r["meets_target"], ""))
        console.print(unit_table)


def render_year(published: Path, console: Console, year: int, programme: str | None = None,
                unit: str | None = None, failing: bool = False, codes: bool = False, fmt: str = "table",
                out: io.TextIOBase | None = None, limits: DuckDBLimits | None = None) -> None:
    """The annual assessment of `year` (reporting.annual): per level, every current unit with each indicator's year
    value against its target, the criteria met k/n and whether it may be proposed for a high award; one unit
    (`unit`) or the units that may not (`failing`)."""
    from reporting.annual import AWARD_LABEL, AWARD_VALUES, read_annual
    from reporting.published import ReportError

    try:
        assessment = read_annual(published, year, programme, limits)
    except ReportError as exc:
        raise LookupError(str(exc)) from exc
    rows = assessment.units
    if unit is not None:
        rows = rows.filter(pl.col("unit_code") == unit)
        if rows.is_empty():
            raise LookupError(f"no current unit {unit!r} is assessed in {year} (see `tthc scorecard --year {year}`)")
    if failing:
        rows = rows.filter(~pl.col("award_eligible"))
    if fmt in ("csv", "json"):
        records = [{"programme_code": assessment.programme_code, "year": year,
                    "is_complete_year": assessment.is_complete_year, **r,
                    "level_label": LEVEL_NAMES.get(r["level"], r["level"]),
                    "indicator_label": INDICATOR_LABELS.get(r["indicator"], r["indicator"])}
                   for r in rows.iter_rows(named=True)]
        if fmt == "json":
            out.write(json.dumps(records, ensure_ascii=False, default=str, indent=1) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else ["unit_code"],
                                    lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
        return
    indicators = [i for i in INDICATORS if i in set(rows["indicator"])]
    for level in [lv for lv in LEVELS if lv in set(rows["level"])]:
        at_level = rows.filter(pl.col("level") == level)
        table = Table(title=landing_text(f"{assessment.title} — {LEVEL_NAMES.get(level, level)}"))
        table.add_column("đơn vị")
        for indicator in indicators:
            table.add_column(indicator if codes else INDICATOR_LABELS.get(indicator, indicator), justify="right")
        table.add_column("tiêu chí đạt", justify="right")
        table.add_column(AWARD_LABEL)
        for (code,), unit_rows in at_level.group_by("unit_code", maintain_order=True):
            values = {r["indicator"]: r for r in unit_rows.iter_rows(named=True)}
            first = unit_rows.row(0, named=True)
            cells = []
            for indicator in indicators:
                r = values.get(indicator)
                if r is None or r["value"] is None:
                    cells.append("–")
                else:
                    mark = "" if r["meets_target"] is None else (" ✓" if r["meets_target"] else " ✗")
                    cells.append(f"{_pct(r['value'])} / {_pct(r['target'])}{mark}")
            table.add_row(landing_text(f"{code} {first['unit_name'] or ''}"), *cells,
                          f"{first['criteria_met']}/{first['criteria_total']}",
                          AWARD_VALUES[bool(first["award_eligible"])])
        console.print(table)
