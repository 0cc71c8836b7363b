"""`dashboard.html`: one self-contained page for the leadership, from the published marts.

Charts are Vega-Lite specs rendered by vega-embed; the Vega, Vega-Lite and vega-embed bundle is the one that
vl-convert-python ships (pinned in uv.lock), inlined once, so the page needs no network at all: it opens from a
file share or an e-mail attachment. Styles are inline; the fonts are the system's own.
"""

from __future__ import annotations

import html
import json
import os
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl

from contracts.rules import rules
from contracts.vocabulary import INDICATORS
from reporting.labels import (
    INDEX766_NOTE,
    INDEX766_TITLE,
    INDICATOR_LABELS,
    LEVEL_LABELS,
    LEVELS,
    MEETS_LABELS,
    METRIC_LABELS,
    NOT_JUDGED_LABEL,
    NOT_JUDGED_NOTE,
    PROVISIONAL_MARK,
    month_label,
    percent_label,
    points_label,
)
from reporting.published import PublishedMarts
from reporting.workbooks import LEVEL_COLOURS, explanation_rows, trend_rows

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier in the spec, never fetched
# d3-format has no Vietnamese locale: decimal comma, thousands dot
FORMAT_LOCALE = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " ₫"]}
MEETS_COLOUR, MISSES_COLOUR, NOT_JUDGED_COLOUR = "#2E7D32", "#C62828", "#9E9E9E"


def script_json(value) -> str:
    """JSON to write inside a <script> element: `<`, `>` and `&` as \\u escapes (still the same JSON), so that no
    text from the landing (a unit named `<!--<script>` or `</script>`) can end the script or put the HTML parser
    into its escaped states, and U+2028/2029 escaped for older JavaScript parsers."""
    text = json.dumps(value, ensure_ascii=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


@cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one classic script (it sets window.vegaEmbed).

    vl-convert builds it in about 2 s; it depends on nothing but vl-convert's version, so it is kept in the user's
    cache folder (XDG_CACHE_HOME, else ~/.cache) under that version, and built again only when that changes.
    """
    from importlib.metadata import version

    import vl_convert

    cached = bundle_cache_dir() / f"vega-bundle-{version('vl-convert-python')}.js"
    try:
        return cached.read_text(encoding="utf-8")
    except OSError:
        pass
    bundle = vl_convert.javascript_bundle()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        staging = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        staging.write_text(bundle, encoding="utf-8")
        os.replace(staging, cached)  # whole or absent: a reader never sees half a bundle
    except OSError:
        pass  # a read-only home: built each time, as before
    return bundle


def bundle_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tthc"


def _iso(value: date) -> str:
    return value.isoformat()


def trend_spec(marts: PublishedMarts, indicator: str) -> dict:
    """Monthly pooled rate per level, each level's target as a dashed rule, the programme's start marked."""
    rows = [r for r in trend_rows(marts) if r["indicator"] == indicator]
    values = [{"month": _iso(r["period_month"]), "level": LEVEL_LABELS[r["level"]], "value": r["value"]}
              for r in rows if r["value"] is not None]
    targets = [{"level": LEVEL_LABELS[lv], "target": t} for lv in marts.levels
               if (t := marts.targets().get((lv, indicator))) is not None]
    colour = {"field": "level", "type": "nominal", "title": "Cấp",
              "scale": {"domain": [LEVEL_LABELS[lv] for lv in marts.levels],
                        "range": [LEVEL_COLOURS[lv] for lv in marts.levels]}}
    starts = ([{"month": _iso(marts.window[0]), "label": f"{marts.programme_short} ({month_label(marts.window[0])})"}]
              if marts.window else [])
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": INDICATOR_LABELS[indicator],
        "width": 430, "height": 200,
        "layer": [
            {"data": {"values": values}, "mark": {"type": "line", "point": True},
             "encoding": {
                 "x": {"field": "month", "type": "temporal", "timeUnit": "utcyearmonth", "title": None,
                       "axis": {"format": "%m/%Y", "labelAngle": -40}},
                 "y": {"field": "value", "type": "quantitative", "title": None, "axis": {"format": ".0%"},
                       "scale": {"domain": [0, 1]}},
                 "color": colour,
                 "tooltip": [{"field": "level", "title": "Cấp"},
                             {"field": "month", "type": "temporal", "timeUnit": "utcyearmonth", "title": "Tháng",
                              "format": "%m/%Y"},
                             {"field": "value", "type": "quantitative", "title": "Tỷ lệ", "format": ".1%"}]}},
            {"data": {"values": targets}, "mark": {"type": "rule", "strokeDash": [5, 4], "strokeWidth": 1.5},
             "encoding": {"y": {"field": "target", "type": "quantitative"}, "color": colour,
                          "tooltip": [{"field": "level", "title": "Mục tiêu"},
                                      {"field": "target", "type": "quantitative", "format": ".0%", "title": "Mức"}]}},
            {"data": {"values": starts},
             "layer": [
                 {"mark": {"type": "rule", "color": "#555", "strokeWidth": 1.5},
                  "encoding": {"x": {"field": "month", "type": "temporal", "timeUnit": "utcyearmonth"}}},
                 {"mark": {"type": "text", "align": "left", "dx": 4, "dy": -6, "color": "#555"},
                  "encoding": {"x": {"field": "month", "type": "temporal", "timeUnit": "utcyearmonth"},
                               "y": {"datum": 1}, "text": {"field": "label"}}}]},
        ],
        "resolve": {"scale": {"color": "shared"}},
    }


def ranking_spec(marts: PublishedMarts, level: str) -> dict:
    """The units of a level by their window rate of the chosen indicator, those below target first (readable with
    the 99 communes of 2026), values printed, the level's target as a rule; grey: too few dossiers to judge."""
    targets = marts.targets()
    units = marts.unit_names
    values = [{"unit": f"{r['unit_code']} {units.get(r['unit_code']) or ''}".strip(),
               "indicator": INDICATOR_LABELS[r["indicator"]], "value": r["window_value"],
               "target": targets.get((level, r["indicator"])), "judged": r["judged"],
               "verdict": MEETS_LABELS[bool(r["meets_target"])] if r["judged"] else NOT_JUDGED_NOTE}
              for r in marts.unit_scorecard.filter((pl.col("level") == level) & pl.col("window_value").is_not_null())
              .iter_rows(named=True)]
    rule_values = [{"indicator": INDICATOR_LABELS[i], "target": t} for i in INDICATORS
                   if (t := targets.get((level, i))) is not None]
    chosen = "datum.indicator == chi_tieu"
    # units below their target first, the furthest below first; then the others, the highest first
    ranked = [{"filter": chosen}, {"calculate": "datum.judged && datum.value < datum.target ? datum.value : "
                                                "2 - datum.value", "as": "order"}]
    y_ranked = {"field": "unit", "type": "nominal", "sort": {"field": "order", "op": "min", "order": "ascending"},
                "title": None, "axis": {"labelLimit": 260}}
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": f"{LEVEL_LABELS[level]}: xếp hạng đơn vị, cả giai đoạn",
        "params": [{"name": "chi_tieu", "value": INDICATOR_LABELS["online_rate"],
                    "bind": {"input": "select", "options": [INDICATOR_LABELS[i] for i in INDICATORS],
                             "element": f"#chooser-{level}",  # above the chart, not below 99 bars
                             "name": "Chỉ tiêu: "}}],
        "width": 460,
        "layer": [
            {"data": {"values": values}, "transform": ranked,
             "mark": {"type": "bar"},
             "encoding": {
                 "y": y_ranked,
                 "x": {"field": "value", "type": "quantitative", "title": None,
                       "axis": {"format": ".0%", "values": [0, 0.2, 0.4, 0.6, 0.8, 1]},
                       "scale": {"domain": [0, 1.08]}},  # room for the printed values
                 "color": {"condition": [{"test": "!datum.judged", "value": NOT_JUDGED_COLOUR},
                                         {"test": "datum.value >= datum.target", "value": MEETS_COLOUR}],
                           "value": MISSES_COLOUR},
                 "tooltip": [{"field": "unit", "title": "Đơn vị"},
                             {"field": "value", "type": "quantitative", "format": ".1%", "title": "Tỷ lệ"},
                             {"field": "target", "type": "quantitative", "format": ".0%", "title": "Mục tiêu"},
                             {"field": "verdict", "title": "Đánh giá"}]}},
            {"data": {"values": values}, "transform": ranked,  # each value printed at the end of its bar
             "mark": {"type": "text", "align": "left", "dx": 3, "fontSize": 9},
             "encoding": {"y": y_ranked, "x": {"field": "value", "type": "quantitative"},
                          "text": {"field": "value", "type": "quantitative", "format": ".0%"}}},
            {"data": {"values": rule_values}, "transform": [{"filter": chosen}],
             "mark": {"type": "rule", "color": "#333", "strokeDash": [5, 4], "strokeWidth": 2},
             "encoding": {"x": {"field": "target", "type": "quantitative"}}},
        ],
        "height": {"step": 12},
    }


def index766_trend_spec(marts: PublishedMarts) -> dict:
    """The province's 766 estimate by month: its points out of those at stake."""
    province = (marts.index766.filter((pl.col("scope") == "level") & (pl.col("level") == "toan_tinh"))
                .group_by("period_month").agg(pl.col("total_points").first(), pl.col("total_max_points").first())
                .sort("period_month"))
    values = [{"month": _iso(r["period_month"]), "points": r["total_points"], "max": r["total_max_points"]}
              for r in province.iter_rows(named=True) if r["total_points"] is not None]
    return {
        "$schema": VEGA_LITE_SCHEMA, "title": "Toàn tỉnh: điểm ước tính theo tháng", "width": 430, "height": 200,
        "data": {"values": values}, "mark": {"type": "line", "point": True, "color": LEVEL_COLOURS["toan_tinh"]},
        "encoding": {
            "x": {"field": "month", "type": "temporal", "timeUnit": "utcyearmonth", "title": None,
                  "axis": {"format": "%m/%Y", "labelAngle": -40}},
            "y": {"field": "points", "type": "quantitative", "title": "điểm", "scale": {"domain": [0, 42]}},
            "tooltip": [{"field": "month", "type": "temporal", "timeUnit": "utcyearmonth", "title": "Tháng",
                         "format": "%m/%Y"},
                        {"field": "points", "type": "quantitative", "format": ".1f", "title": "Điểm"},
                        {"field": "max", "type": "quantitative", "format": ".0f", "title": "Trên"}]},
    }


def index766_losses_spec(marts: PublishedMarts) -> dict:
    """The points the province lost on each metric in the report month (maximum minus points)."""
    rows = marts.index766.filter((pl.col("scope") == "level") & (pl.col("level") == "toan_tinh")
                                 & (pl.col("period_month") == marts.month))
    values = [{"metric": METRIC_LABELS[r["metric"]], "lost": r["max_points"] - (r["points"] or 0),
               "max": r["max_points"]} for r in rows.iter_rows(named=True)]
    return {
        "$schema": VEGA_LITE_SCHEMA, "title": f"Toàn tỉnh: điểm bị mất theo tiêu chí, tháng {marts.month_label}",
        "width": 380, "data": {"values": values}, "height": {"step": 26},
        "layer": [
            {"mark": {"type": "bar", "color": MISSES_COLOUR},
             "encoding": {"y": {"field": "metric", "type": "nominal", "title": None, "sort": "-x",
                                "axis": {"labelLimit": 220}},
                          "x": {"field": "lost", "type": "quantitative", "title": "điểm bị mất"},
                          "tooltip": [{"field": "metric", "title": "Tiêu chí"},
                                      {"field": "lost", "type": "quantitative", "format": ".2f", "title": "Mất"},
                                      {"field": "max", "type": "quantitative", "format": ".0f", "title": "Trên"}]}},
            {"mark": {"type": "text", "align": "left", "dx": 3},
             "encoding": {"y": {"field": "metric", "type": "nominal", "sort": "-x"},
                          "x": {"field": "lost", "type": "quantitative"},
                          "text": {"field": "lost", "type": "quantitative", "format": ".2f"}}},
        ],
    }


def index766_ranking_rows(marts: PublishedMarts, level: str) -> list[dict]:
    """The listed units of a level in the report month, by their rank on the 766 estimate (unranked last)."""
    listed = set(marts.units.filter(pl.col("level") == level)["unit_code"])
    rows = (marts.index766.filter((pl.col("scope") == "current_unit") & (pl.col("level") == level)
                                  & (pl.col("period_month") == marts.month) & pl.col("unit_code").is_in(listed))
            .group_by("unit_code").agg(pl.col("rank_in_level").first(), pl.col("score_pct").first(),
                                       pl.col("total_points").first(), pl.col("total_max_points").first()))
    return sorted(({**r, "unit_name": marts.unit_names.get(r["unit_code"])} for r in rows.iter_rows(named=True)),
                  key=lambda r: (r["rank_in_level"] is None, r["rank_in_level"] or 0, r["unit_code"]))


def _points(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}".replace(".", ",")


def _index766_section(marts: PublishedMarts) -> str:
    if marts.index766 is None or marts.index766.is_empty():
        return ""
    e = html.escape
    tables = []
    for level in marts.unit_levels:
        rows = "".join(
            f'<tr data-unit="{e(r["unit_code"])}"><td class=num>{r["rank_in_level"] or "–"}</td>'
            f'<td>{e(r["unit_code"])}</td><td>{e(r["unit_name"] or "")}</td>'
            f'<td class=num>{percent_label(r["score_pct"]) or "–"}</td>'
            f'<td class=num>{_points(r["total_points"])} / {r["total_max_points"]:.0f}</td></tr>'
            for r in index766_ranking_rows(marts, level))
        tables.append(f'<div class="ranking766"><h3>{e(LEVEL_LABELS[level])}: xếp hạng tháng {marts.month_label}</h3>'
                      f'<table class="index766-ranking" data-level="{level}"><thead><tr><th>Hạng</th><th>Mã đơn vị</th>'
                      f'<th>Tên đơn vị</th><th>Tỷ lệ điểm</th><th>Điểm</th></tr></thead><tbody>{rows}</tbody></table></div>')
    return (f'<section id="index766"><h2>{e(INDEX766_TITLE)}</h2><p class="note">{e(INDEX766_NOTE)}</p>'
            f'<div class="grid"><div class="chart" id="index766-trend"></div>'
            f'<div class="chart" id="index766-losses"></div></div>'
            f'<div class="grid">{"".join(tables)}</div></section>')


def tiles(marts: PublishedMarts) -> list[dict]:
    meeting = marts.meeting()
    month = {(r["level"], i): r[i] for r in marts.level_month.filter(pl.col("period_month") == marts.month)
             .iter_rows(named=True) for i in INDICATORS}
    card = {(r["level"], r["indicator"]): r for r in marts.level_scorecard.iter_rows(named=True)}
    return [{"indicator": i, "level": lv, **{k: card.get((lv, i), {}).get(k) for k in
                                             ("window_value", "baseline_value", "change_pp", "target", "meets_target")},
             "units": meeting.get((lv, i)) if lv != "toan_tinh" else None, "month_value": month.get((lv, i)),
             "month_label": marts.month_label} for i in INDICATORS for lv in marts.levels]


def units_not_meeting(marts: PublishedMarts) -> list[dict]:
    """Every (unit, indicator) below its target, of the units judged on it (enough dossiers)."""
    names = marts.unit_names
    rows = marts.unit_scorecard.filter(pl.col("meets_target").not_() & pl.col("judged"))
    order = {lv: n for n, lv in enumerate(LEVELS)}
    return sorted(({**r, "unit_name": names.get(r["unit_code"])} for r in rows.iter_rows(named=True)),
                  key=lambda r: (order.get(r["level"], 9), INDICATORS.index(r["indicator"]), r["window_value"]))


def _tile_html(t: dict) -> str:
    state = {True: "meets", False: "misses", None: "none"}[t["meets_target"]]
    month_state = ("none" if t["month_value"] is None or t["target"] is None
                   else "meets" if t["month_value"] >= t["target"] else "misses")
    change = "" if t["change_pp"] is None else f"{points_label(t['change_pp'])} điểm % so với kỳ gốc"
    units = (f"{t['units'][0]}/{t['units'][1]} đơn vị đạt"
             + (f", {t['units'][2]} đơn vị {NOT_JUDGED_LABEL} chưa đánh giá" if t["units"][2] else "")
             if t["units"] else "")
    return (f'<div class="tile {state}" data-indicator="{t["indicator"]}" data-level="{t["level"]}" '
            f'data-value="{"" if t["window_value"] is None else repr(t["window_value"])}">'
            f'<div class="level">{LEVEL_LABELS[t["level"]]}</div>'
            f'<div class="value">{percent_label(t["window_value"]) or "–"}</div>'
            f'<div class="target">mục tiêu {percent_label(t["target"], 0) or "–"}</div>'
            f'<div class="month">tháng {t["month_label"]}: <b class="{month_state}">'
            f'{percent_label(t["month_value"]) or "–"}</b></div>'
            f'<div class="change">{change}</div><div class="units">{units}</div></div>')


def render_dashboard(marts: PublishedMarts) -> str:
    e = html.escape
    charts = ([(f"trend-{i}", trend_spec(marts, i)) for i in INDICATORS]
              + [(f"ranking-{lv}", ranking_spec(marts, lv)) for lv in marts.unit_levels])
    index766 = _index766_section(marts)
    extra_charts = ([("index766-trend", index766_trend_spec(marts)), ("index766-losses", index766_losses_spec(marts))]
                    if index766 else [])
    tile_rows = "".join(
        f'<section class="indicator"><h3>{e(INDICATOR_LABELS[i])}</h3><div class="tiles">'
        + "".join(_tile_html(t) for t in tiles(marts) if t["indicator"] == i) + "</div></section>"
        for i in INDICATORS)
    lagging = units_not_meeting(marts)
    lagging_rows = "".join(
        f"<tr><td>{e(LEVEL_LABELS.get(r['level'], r['level']))}</td><td>{e(INDICATOR_LABELS[r['indicator']])}</td>"
        f"<td>{e(r['unit_code'])}</td><td>{e(r['unit_name'] or '')}</td><td class=num>{percent_label(r['window_value'])}</td>"
        f"<td class=num>{percent_label(r['target'], 0)}</td>"
        f"<td class=num>{points_label((r['window_value'] - r['target']) * 100)}</td></tr>"
        for r in lagging)
    unexplained = [r for r in explanation_rows(marts) if r["unexplained"]]
    unexplained_rows = "".join(
        f"<tr data-unit=\"{e(r['unit_code'])}\"><td>{e(r['unit_code'])}</td><td>{e(r['unit_name'] or '')}</td>"
        f"<td>{e(LEVEL_LABELS.get(r['level'], r['level'] or ''))}</td><td class=num>{r['unexplained']}</td>"
        f"<td class=num>{r['unexplained_old']}</td></tr>" for r in unexplained)
    window = f"{marts.window[0]:%d/%m/%Y} – {marts.window[1]:%d/%m/%Y}" if marts.window else "chưa có"
    baseline = f"{marts.baseline[0]:%d/%m/%Y} – {marts.baseline[1]:%d/%m/%Y}" if marts.baseline else "chưa có"
    as_of = f"{marts.as_of:%d/%m/%Y %H:%M}" if marts.as_of else "không rõ"
    quality_state = "ok" if marts.quality.run_id and not marts.quality.blocking_failed else "bad"
    specs = script_json(dict(charts + extra_charts))
    provisional_prefix = f"{PROVISIONAL_MARK} – " if marts.provisional else ""
    provisional_note = (f'<p id="provisional" class="note">Tháng {marts.month_label} chưa đủ số liệu: các số liệu còn '
                        "thay đổi, chưa dùng để đánh giá.</p>" if marts.provisional else "")
    chart_divs = "".join(f'<div class="chart" id="{name}"></div>' for name, _ in charts[:len(INDICATORS)])
    ranking_divs = "".join(f'<div class="ranking"><div class="chooser" id="chooser-{name.removeprefix("ranking-")}">'
                           f'</div><div class="chart" id="{name}"></div></div>' for name, _ in charts[len(INDICATORS):])
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{provisional_prefix}{e(marts.programme_title)} – tháng {marts.month_label}</title>
<style>{STYLE}</style></head>
<body>
<header>
<h1>{provisional_prefix}Kết quả thực hiện {e(marts.programme_title)} – tỉnh Bắc Ninh</h1>{provisional_note}
<dl class="facts">
<div><dt>Số liệu đến</dt><dd id="as-of">{as_of}</dd></div>
<div><dt>Tháng báo cáo</dt><dd id="month">{marts.month_label}</dd></div>
<div><dt>Giai đoạn</dt><dd id="window">{window}</dd></div>
<div><dt>Kỳ gốc</dt><dd id="baseline">{baseline}</dd></div>
<div><dt>Chất lượng dữ liệu</dt><dd id="quality" class="{quality_state}">{e(marts.quality.label)}</dd></div>
</dl></header>
<main>
<h2>Chỉ tiêu theo cấp, cả giai đoạn (so với mục tiêu)</h2>
{tile_rows}
<h2>Diễn biến theo tháng</h2>
<p class="note">Đường nét đứt: mục tiêu của từng cấp; vạch dọc: ngày {e(marts.programme_short)} có hiệu lực.</p>
<div class="grid">{chart_divs}</div>
<h2>Xếp hạng đơn vị theo cấp</h2>
<p class="note">Đơn vị chưa đạt mục tiêu đứng đầu, thấp nhất trước. Xanh: đạt mục tiêu, đỏ: chưa đạt, xám: ít hồ sơ,
chưa đánh giá; vạch nét đứt: mục tiêu của cấp. Chọn chỉ tiêu trong từng biểu đồ.</p>
<div class="grid">{ranking_divs}</div>
{index766}
<h2>Đơn vị chưa đạt mục tiêu ({len({r["unit_code"] for r in lagging})} đơn vị, {len(lagging)} chỉ tiêu)</h2>
<table id="lagging"><thead><tr><th>Cấp</th><th>Chỉ tiêu</th><th>Mã đơn vị</th><th>Tên đơn vị</th>
<th>Cả giai đoạn</th><th>Mục tiêu</th><th>Chênh lệch (điểm %)</th></tr></thead><tbody>{lagging_rows}</tbody></table>
<h2>Hồ sơ trễ hạn chưa giải trình ({sum(r["unexplained"] for r in unexplained)} hồ sơ, {len(unexplained)} đơn vị)</h2>
<p class="note">Đơn vị giải trình từng hồ sơ trễ hạn và gửi văn bản xin lỗi người dân.</p>
<table id="unexplained"><thead><tr><th>Mã đơn vị</th><th>Tên đơn vị</th><th>Cấp</th><th>Chưa giải trình</th>
<th>Trong đó trễ quá {rules().unexplained_late_days} ngày</th></tr></thead><tbody>{unexplained_rows}</tbody></table>
</main>
<footer>Số liệu từ tệp công bố của nền tảng dữ liệu TTHC tỉnh Bắc Ninh.</footer>
<script>{vega_bundle()}</script>
<script>
const specs = {specs};
const formatLocale = {script_json(FORMAT_LOCALE)};
window.tthcCharts = {{}};
window.tthcReady = Promise.all(Object.entries(specs).map(([id, spec]) =>
  vegaEmbed("#" + id, spec, {{actions: false, renderer: "svg", formatLocale}})
    .then(result => {{ window.tthcCharts[id] = result.view; }})));
</script>
</body></html>
"""


STYLE = """
body{font-family:"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",Arial,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#1F4E79;color:#fff;padding:16px 24px}
h1{margin:0 0 8px;font-size:22px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #1F4E79;padding-bottom:4px}
h3{font-size:14px;margin:12px 0 6px}
main{padding:0 24px 24px}
.facts{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0}
.facts div{display:flex;gap:6px}.facts dt{opacity:.8}.facts dd{margin:0;font-weight:600}
.facts dd.bad{color:#ffb4b4}
.tiles{display:grid;grid-template-columns:repeat(4,minmax(150px,1fr));gap:10px}
.tile{background:#fff;border-radius:6px;padding:10px 12px;border-left:6px solid #999;box-shadow:0 1px 2px #0002}
.tile.meets{border-color:#2E7D32}.tile.misses{border-color:#C62828}
.tile .level{font-size:12px;color:#555}.tile .value{font-size:26px;font-weight:700}
.tile.meets .value{color:#2E7D32}.tile.misses .value{color:#C62828}
.tile .target,.tile .change,.tile .units,.tile .month{font-size:12px;color:#444}
.tile .month b.meets{color:#2E7D32}.tile .month b.misses{color:#C62828}
.grid{display:flex;flex-wrap:wrap;gap:16px}
.chart{background:#fff;padding:8px;border-radius:6px;box-shadow:0 1px 2px #0002}
.note{font-size:13px;color:#555;margin:4px 0 10px}
table{border-collapse:collapse;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}th{background:#DDEBF7}td.num{text-align:right}
footer{font-size:12px;color:#666;padding:12px 24px}
.ranking766{max-height:520px;overflow:auto}
"""


def write_dashboard(marts: PublishedMarts, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_dashboard(marts), encoding="utf-8")
    return path
