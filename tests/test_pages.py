"""The dashboard and the data quality page open offline in a real browser (Debian's chromium driven by
Playwright): no request leaves the file, no console error, every chart has drawn its marks, the tiles and the
check list show what the published file and the warehouse hold."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from contracts.rules import rules
from contracts.vocabulary import INDICATORS
from orchestration.history import data_quality_page
from reporting.labels import LEVELS, UNIT_LEVELS, percent_label


class OfflinePage:
    """A page opened from its file, with every request and console error it made recorded."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.requests: list[str] = []
        self.refused: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def refuse_network(route):
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                self.refused.append(route.request.url)
                route.abort()

        self.page.route("**/*", refuse_network)
        self.page.goto(path.resolve().as_uri())

    def close(self) -> None:
        self.page.close()


def test_the_dashboard_renders_offline_with_every_chart_and_the_published_values(pack_run, browser):
    published, folder = pack_run
    dashboard = folder / "dashboard.html"
    assert dashboard.stat().st_size < 5_000_000
    view = OfflinePage(browser, dashboard)
    try:
        view.page.evaluate("window.tthcReady")
        assert view.refused == [] and view.requests == [dashboard.resolve().as_uri()]
        assert view.errors == []
        with duckdb.connect(str(published), read_only=True) as con:
            card = con.sql("select level, indicator, window_value from marts.directive10_scorecard "
                           "where scope = 'level'").pl()
            # today's units, each over its predecessors; units on too few dossiers are shown grey, not judged
            units = con.sql("select level, count(*) as n from marts.programme_scorecard where scope = 'current_unit' "
                            "and programme_code = 'ct10_2023' and indicator = 'online_rate' "
                            "and window_value is not null group by level").pl()
            lagging = con.sql(f"select count(*) from marts.programme_scorecard where scope = 'current_unit' "
                              f"and programme_code = 'ct10_2023' and not meets_target "
                              f"and window_denominator >= {rules().min_dossiers_to_judge}").fetchall()[0][0]
            as_of = con.sql("select max(as_of) from marts.overdue_dossiers").fetchall()[0][0]
            units_unexplained = con.sql("select count(distinct unit_code) from marts.late_dossiers "
                                        "where not explained").fetchall()[0][0]
        for row in card.iter_rows(named=True):
            tile = view.page.locator(f".tile[data-indicator={row['indicator']}][data-level={row['level']}] .value")
            assert tile.inner_text() == (percent_label(row["window_value"]) or "–"), row
        assert view.page.locator(".tile").count() == len(INDICATORS) * len(LEVELS)
        for indicator in INDICATORS:  # one line per level, each level's target as a rule, the Directive marked
            chart = view.page.locator(f"#trend-{indicator}")
            assert chart.locator("g.mark-line.role-mark path").count() == len(LEVELS)
            assert chart.locator("g.mark-rule.role-mark line").count() >= len(LEVELS) + 1
            assert "Chỉ thị 10" in chart.inner_text()
        for level in UNIT_LEVELS:  # one bar per unit with a window value, the target rule
            chart = view.page.locator(f"#ranking-{level}")
            expected = units.filter(pl.col("level") == level)["n"][0]
            assert chart.locator("g.mark-rect.role-mark path").count() == expected
            assert chart.locator("g.mark-rule.role-mark line").count() == 1
        # choosing another indicator redraws the ranking with that indicator's units
        chooser = view.page.locator("#chooser-tinh select")  # above the chart
        assert chooser.bounding_box()["y"] < view.page.locator("#ranking-tinh").bounding_box()["y"]
        chooser.select_option(label="Tỷ lệ giải quyết đúng hạn")
        view.page.wait_for_timeout(200)
        assert view.page.locator("#ranking-tinh g.mark-rect.role-mark path").count() > 0
        assert view.page.locator("#lagging tbody tr").count() == lagging
        assert view.page.locator("#unexplained tbody tr").count() == units_unexplained > 0
        assert view.page.locator("#as-of").inner_text() == f"{as_of:%d/%m/%Y %H:%M}"
        assert "mọi kiểm tra chặn đều đạt" in view.page.locator("#quality").inner_text()
        # the 766 estimate: the province by month, the points lost per metric, each level's current units ranked
        section = view.page.locator("#index766")
        assert "ước tính, 42/100 điểm" in section.locator("h2").inner_text()
        assert "không phải điểm chính thức" in section.inner_text()
        month = folder.name
        with duckdb.connect(str(published), read_only=True) as con:
            province = con.sql("select count(distinct period_month) from marts.index766_unit_month "
                               f"where scope = 'level' and level = 'toan_tinh' and period_month <= '{month}-01' "
                               "and total_points is not null").fetchall()[0][0]
            ranked = con.sql("select level, unit_code, any_value(rank_in_level) as rank from marts.index766_unit_month "
                             f"where scope = 'current_unit' and period_month = '{month}-01' group by all").pl()
        assert section.locator("#index766-trend g.mark-symbol.role-mark path").count() == province
        assert section.locator("#index766-losses g.mark-rect.role-mark path").count() == len(rules().index766)
        for level in UNIT_LEVELS:
            rows = section.locator(f'table.index766-ranking[data-level="{level}"] tbody tr')
            expected = ranked.filter(pl.col("level") == level).sort("rank", "unit_code", nulls_last=True)
            assert rows.count() == expected.height
            first = rows.nth(0).locator("td")
            assert first.nth(0).inner_text() == str(expected["rank"][0]) == "1"
            assert first.nth(1).inner_text() == expected["unit_code"][0]
        assert view.errors == [] and view.refused == []
    finally:
        view.close()


def test_the_data_quality_page_renders_offline_with_the_latest_checks_and_suites(pack_run, browser):
    from orchestration.settings import Settings

    published, _ = pack_run
    settings = Settings.from_env().with_paths(warehouse=published.parents[1] / "warehouse" / "tthc.duckdb",
                                              published=published)
    page_path = data_quality_page(settings)
    view = OfflinePage(browser, page_path)
    try:
        view.page.wait_for_load_state("load")
        assert view.refused == [] and view.errors == []
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            latest = con.sql("select check_name, passed from quality.check_runs where run_id = "
                             "(select run_id from quality.check_runs order by run_at desc limit 1)").pl()
            suites = con.sql("select distinct suite from quality.expectation_results").pl()["suite"].to_list()
        failed = sorted(latest.filter(~pl.col("passed"))["check_name"])
        shown_failed = sorted(view.page.locator("#checks-failed tr[data-check]").evaluate_all(
            "rows => rows.map(r => r.dataset.check)"))
        assert shown_failed == failed and "gx_unit_reports" in failed
        # each check by what it verifies, in Vietnamese; its id small beneath, for the engineer
        from orchestration.check_descriptions import PYTHON_CHECKS_VI

        row = view.page.locator('#checks-failed tr[data-check="gx_unit_reports"] td').first.inner_text()
        assert row.splitlines() == [PYTHON_CHECKS_VI["gx_unit_reports"], "gx_unit_reports"]
        grain = view.page.locator('#checks-passed tr[data-check="unique_current_unit_month"] td').first
        assert grain.text_content().startswith("Mỗi bộ (current_unit_code, period_month) chỉ có một dòng")
        assert "(error)" not in view.page.inner_text("body") and "(warn)" not in view.page.inner_text("body")
        assert view.page.locator("#checks-passed tr[data-check]").count() == latest.filter(pl.col("passed")).height
        assert sorted(suites) == ["raw_dossier_batch", "raw_unit_report_batch", "unit_reports"]
        for suite in suites:
            assert view.page.locator(f"#suite-{suite} tr[data-expectation]").count() > 0
    finally:
        view.close()
