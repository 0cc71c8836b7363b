"""End to end, as a newcomer runs it: `tthc generate` (default profile, full scale), `tthc run`, `tthc scorecard`.

The published scorecard must reproduce what the province reported in February 2024 (domain.md): rates within
0.5 points, changes within 1 point, 13 of 17 provincial units over 85% online, 7 of 8 district units over
their online target.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from sample_province.calibration import ARTICLE, ARTICLE_UNITS_MEETING


@pytest.mark.e2e
def test_the_published_scorecard_reproduces_the_february_2024_report(tmp_path):
    # `.venv/bin/tthc` with no activated venv: a bare PATH, so dbt must be found beside the interpreter
    env = {**os.environ, "PATH": "/usr/bin:/bin", "TTHC_LANDING_DIR": str(tmp_path / "landing"),
           "TTHC_WAREHOUSE": str(tmp_path / "warehouse" / "tthc.duckdb"),
           "TTHC_PUBLISHED": str(tmp_path / "published" / "tthc_marts.duckdb"),
           "DAGSTER_HOME": str(tmp_path / "dagster"), "TTHC_PII_KEY": "e2e-key"}

    def tthc(*args):
        done = subprocess.run([str(Path(sys.executable).with_name("tthc")), *args], env=env, capture_output=True,
                              text=True, timeout=1800)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    tthc("generate")
    run = tthc("run")
    assert "published: yes" in run.stderr
    scorecard = tthc("scorecard")
    assert "Chỉ thị 10/CT-UBND" in scorecard.stdout and "Cấp huyện" in scorecard.stdout

    with duckdb.connect(env["TTHC_PUBLISHED"], read_only=True) as con:
        levels = {(i, lv): (w, c) for i, lv, w, c in con.execute(
            "select indicator, level, window_value, change_pp from marts.directive10_scorecard "
            "where scope = 'level'").fetchall()}
        summary = {(i, lv): (m, t) for i, lv, m, t in con.execute(
            "select indicator, level, units_meeting_target, units_total from marts.directive10_summary").fetchall()}
        window = con.execute("select distinct window_start, window_end from marts.directive10_scorecard").fetchall()
    assert [(str(a), str(b)) for a, b in window] == [("2023-06-01", "2024-01-31")]
    for key, (expected_rate, expected_change) in ARTICLE.items():
        rate, change = levels[key]
        assert abs(rate - expected_rate) <= 0.005, (key, rate)
        if expected_change is not None:
            assert abs(change - expected_change) <= 1.0, (key, change)
    for key, expected in ARTICLE_UNITS_MEETING.items():
        assert summary[key] == expected, (key, summary[key])
