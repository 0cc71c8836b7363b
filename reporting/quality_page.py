"""The data quality page (the project's own data docs): every check of the latest run, every expectation of each
Great Expectations suite as last validated, and the recent runs, in one self-contained HTML file (inline styles,
no script, no font or stylesheet from a CDN), so it opens on a machine without a network."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from itertools import groupby

SEVERITY_LABELS = {"error": "chặn công bố", "warn": "cảnh báo"}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "đạt" if value else "không đạt"
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y %H:%M:%S}"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return html.escape(str(value))


def _state(passed: bool | None, severity: str | None = "error") -> str:
    if passed:
        return "pass"
    return "fail" if severity == "error" else "warn"


Row = dict  # a row of the history tables, by column name


def render_quality_page(runs: Sequence[Row], checks: Sequence[Row], expectations: Sequence[Row],
                        generated_at: datetime, descriptions: dict[str, str] | None = None) -> str:
    """The page, in Vietnamese: each check by what it verifies (`descriptions`: check name -> Vietnamese), its id
    small beneath for the engineer who looks it up in Dagster or the README. Rows as plain dicts (no dataframe
    library: a run with nothing new writes this page, and its second should not go to importing one); the
    expectations ordered by suite."""
    latest = runs[0] if runs else None
    descriptions = descriptions or {}

    def check_rows(rows: Sequence[Row]) -> str:
        return "".join(
            f'<tr class="{_state(r["passed"], r["severity"])}" data-check="{html.escape(r["check_name"])}">'
            f'<td>{_cell(descriptions.get(r["check_name"], r["check_name"]))}'
            f'<br><code class="id">{_cell(r["check_name"])}</code></td><td><code>{_cell(r["asset"])}</code></td>'
            f'<td>{SEVERITY_LABELS.get(r["severity"], _cell(r["severity"]))}</td><td class="badge">{_cell(r["passed"])}</td>'
            f'<td class="num">{_cell(r["failed_rows"])}</td><td class="detail">{_cell(r["detail"])}</td></tr>'
            for r in rows)

    header = ('<thead><tr><th>Kiểm tra</th><th>Bảng</th><th>Mức độ</th><th>Kết quả</th><th>Số dòng lỗi</th>'
              '<th>Chi tiết kỹ thuật</th></tr></thead>')
    passed = [r for r in checks if r["passed"]]
    not_passed = [r for r in checks if not r["passed"]]
    suites = []
    for suite, group in groupby(expectations, key=lambda r: r["suite"]):
        rows = list(group)
        first = rows[0]
        failed = sum(1 for r in rows if not r["success"])
        body = "".join(
            f'<tr class="{_state(r["success"])}" data-expectation="{html.escape(r["expectation"])}">'
            f'<td>{_cell(r["expectation"])}</td><td>{_cell(r["column_name"])}</td>'
            f'<td class="args">{_cell(r["arguments"])}</td><td class="badge">{_cell(r["success"])}</td>'
            f'<td class="num">{_cell(r["element_count"])}</td><td class="num">{_cell(r["unexpected_count"])}</td>'
            f'<td class="detail">{_cell(r["detail"])}</td></tr>'
            for r in rows)
        suites.append(
            f'<section class="suite" id="suite-{html.escape(suite)}"><h3>{html.escape(suite)} '
            f'<span class="{"fail" if failed else "pass"}">{len(rows) - failed}/{len(rows)} kỳ vọng đạt</span></h3>'
            f'<p class="note">Bảng <code>{html.escape(first["asset"])}</code>, kiểm tra lúc {_cell(first["run_at"])}</p>'
            f'<table><thead><tr><th>Kỳ vọng</th><th>Cột</th><th>Tham số</th><th>Kết quả</th><th>Số dòng</th>'
            f'<th>Dòng không đạt</th><th>Chi tiết</th></tr></thead><tbody>{body}</tbody></table></section>')
    run_rows = "".join(
        f'<tr class="{"fail" if r["blocking_failed"] else ("warn" if r["warnings"] else "pass")}">'
        f'<td>{_cell(r["run_at"])}</td><td><code>{_cell(r["run_id"])}</code></td><td class="num">{_cell(r["checks"])}</td>'
        f'<td class="num">{_cell(r["blocking_failed"])}</td><td class="num">{_cell(r["warnings"])}</td></tr>'
        for r in runs)
    if latest:
        summary = (f'Lần chạy gần nhất <code>{_cell(latest["run_id"])}</code> lúc {_cell(latest["run_at"])}: '
                   f'{latest["checks"]} kiểm tra, {latest["blocking_failed"]} kiểm tra chặn không đạt, '
                   f'{latest["warnings"]} cảnh báo.')
        status = "fail" if latest["blocking_failed"] else ("warn" if latest["warnings"] else "pass")
    else:
        summary, status = "Chưa có lần kiểm tra nào được ghi nhận.", "warn"
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chất lượng dữ liệu – nền tảng TTHC Bắc Ninh</title><style>{STYLE}</style></head>
<body><header><h1>Chất lượng dữ liệu</h1>
<p id="summary" class="{status}">{summary}</p><p class="note">Trang tạo lúc {generated_at:%d/%m/%Y %H:%M:%S} từ lịch sử
kiểm tra của kho dữ liệu (quality.check_runs, quality.expectation_results).</p></header>
<main>
<h2>Các kiểm tra của lần chạy gần nhất</h2>
<h3>Không đạt ({len(not_passed)})</h3>
<table id="checks-failed">{header}<tbody>{check_rows(not_passed)}</tbody></table>
<details><summary>Đạt ({len(passed)})</summary>
<table id="checks-passed">{header}<tbody>{check_rows(passed)}</tbody></table></details>
<h2>Bộ kỳ vọng về dữ liệu (Great Expectations, lần kiểm tra gần nhất của mỗi bộ)</h2>
{"".join(suites) or '<p class="note">Chưa có bộ kỳ vọng nào được kiểm tra.</p>'}
<h2>Các lần chạy gần đây</h2>
<table id="runs"><thead><tr><th>Lúc</th><th>Lần chạy</th><th>Kiểm tra</th><th>Chặn không đạt</th><th>Cảnh báo</th></tr>
</thead><tbody>{run_rows}</tbody></table>
</main></body></html>
"""


STYLE = """
body{font-family:"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",Arial,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#1F4E79;color:#fff;padding:14px 24px}h1{margin:0 0 6px;font-size:22px}
header .note{color:#dde}main{padding:0 24px 24px}
h2{font-size:18px;margin:26px 0 8px;border-bottom:2px solid #1F4E79;padding-bottom:4px}h3{font-size:15px;margin:16px 0 4px}
table{border-collapse:collapse;background:#fff;font-size:13px;width:100%}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#DDEBF7}
td.num{text-align:right;white-space:nowrap}td.args,td.detail{font-family:monospace;font-size:12px;overflow-wrap:anywhere}
td.detail{max-width:70ch}td.args{max-width:40ch}summary{cursor:pointer;margin:10px 0;font-weight:600}
tr.fail td.badge,span.fail{color:#fff;background:#C62828}tr.warn td.badge{background:#FFE08A}
tr.pass td.badge,span.pass{color:#fff;background:#2E7D32}span.pass,span.fail{padding:1px 6px;border-radius:3px;font-size:12px}
#summary{font-weight:600;padding:4px 8px;border-radius:4px;display:inline-block}
#summary.fail{background:#C62828}#summary.warn{background:#8a6d00}#summary.pass{background:#2E7D32}
.note{font-size:13px;color:#555}code.id{font-size:11px;color:#777}
"""
