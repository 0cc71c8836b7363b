"""`tthc scorecard`: the Directive 10 scorecard from the published marts file, as a terminal table."""

from __future__ import annotations

import re
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reporting.labels import LEVEL_LABELS as LEVEL_NAMES
from reporting.labels import LEVELS
from reporting.published import open_published

LEVEL_ORDER = {level: n for n, level in enumerate(LEVELS)}


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def landing_text(value) -> Text:
    """Text from the landing (a unit's or programme's name) as the terminal should show it: control characters
    (escape sequences, bidirectional overrides) replaced by `�`, and never read as Rich markup."""
    return Text(_CONTROL.sub("\ufffd", "" if value is None else str(value)))


def _pct(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def scorecard_rows(published: Path, programme: str) -> tuple[list[dict], list[dict], dict[tuple[str, str], tuple[int, int]]]:
    """(level rows, unit rows, (indicator, level) -> (units meeting, units total)) of a programme, from the
    published file."""
    with open_published(published) as con:
        rows = con.execute(
            "select s.*, u.unit_name from marts.programme_scorecard s "
            "left join (select distinct unit_code, unit_name from marts.unit_lineage) u using (unit_code) "
            "where s.programme_code = ? and s.scope in ('unit', 'level') "
            "order by indicator, level, unit_code nulls first", [programme]).fetchall()
        names = [d[0] for d in con.description]
        summary = con.execute(
            "select indicator, level, units_meeting_target, units_total from marts.programme_summary "
            "where programme_code = ?", [programme]).fetchall()
        if not rows:
            known = [c for (c,) in con.execute(
                "select distinct programme_code from marts.programme_scorecard order by 1").fetchall()]
            raise LookupError(f"no programme {programme!r} in {published}; scored programmes: {', '.join(known) or 'none'}")
    records = [dict(zip(names, r, strict=False)) for r in rows]
    levels = sorted((r for r in records if r["scope"] == "level"),
                    key=lambda r: (r["indicator"], LEVEL_ORDER.get(r["level"], 9)))
    units = [r for r in records if r["scope"] == "unit"]
    return levels, units, {(i, lv): (m, t) for i, lv, m, t in summary}


EXPLAINED_RATES = """
        select coalesce(level, 'toan_tinh') as level, sum(late), sum(late_explained), sum(with_apology)
        from marts.late_explanations_unit_month
        where period_month between date_trunc('month', ?::date) and ?::date and level is not null
        group by grouping sets ((level), ())
        order by case coalesce(level, 'toan_tinh') when 'toan_tinh' then 0 when 'tinh' then 1 when 'huyen' then 2 else 3 end"""


def explained_rates(published: Path, start, end) -> list[tuple]:
    """(level, late, explained, with apology) pooled over the months of a window, and for the province."""
    with open_published(published) as con:
        return con.execute(EXPLAINED_RATES, [start, end]).fetchall()


def render_scorecard(published: Path, show_units: bool, console: Console, programme: str) -> None:
    levels, units, summary = scorecard_rows(published, programme)
    first = levels[0]
    table = Table(title=landing_text(f"{first['programme_name'] or programme} — window {first['window_start']} to "
                                     f"{first['window_end']}, baseline {first['baseline_start']} to "
                                     f"{first['baseline_end']}"))
    for column in ("indicator", "level", "window", "baseline", "change (pp)", "target", "meets", "units meeting"):
        table.add_column(column, justify="left" if column in ("indicator", "level") else "right")
    for r in levels:
        meeting = summary.get((r["indicator"], r["level"]))
        table.add_row(r["indicator"], LEVEL_NAMES.get(r["level"], r["level"]), _pct(r["window_value"]),
                      _pct(r["baseline_value"]), "" if r["change_pp"] is None else f"{r['change_pp']:+.1f}",
                      _pct(r["target"]), {True: "yes", False: "no", None: ""}[r["meets_target"]],
                      f"{meeting[0]}/{meeting[1]}" if meeting else "")
    console.print(table)
    explained = explained_rates(published, first["window_start"], first["window_end"])
    if explained:
        rates = Table(title="Late dossiers explained by their unit (Directive 10), months of the window")
        for column in ("level", "late", "explained", "explained rate", "with apology"):
            rates.add_column(column, justify="left" if column == "level" else "right")
        for level, late, done, apology in explained:
            rates.add_row(LEVEL_NAMES.get(level, level), f"{late:,}", f"{done:,}", _pct(done / late if late else None),
                          f"{apology:,}")
        console.print(rates)
    if show_units:
        unit_table = Table(title="Units")
        for column in ("indicator", "unit", "level", "window", "baseline", "change (pp)", "target", "meets"):
            unit_table.add_column(column)
        for r in units:
            unit_table.add_row(r["indicator"], landing_text(f"{r['unit_code']} {r['unit_name'] or ''}"), r["level"],
                               _pct(r["window_value"]), _pct(r["baseline_value"]),
                               "" if r["change_pp"] is None else f"{r['change_pp']:+.1f}", _pct(r["target"]),
                               {True: "yes", False: "no", None: ""}[r["meets_target"]])
        console.print(unit_table)
