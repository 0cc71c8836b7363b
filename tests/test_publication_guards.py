"""What a run publishes when the landing is not what a long-running province sends (issue #22): no complete month
yet (a provisional pack, a run that still succeeds), and no dossier at all (nothing published)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner

from cli.commands import cli
from orchestration.run_inputs import nothing_new
from orchestration.settings import Settings
from reporting.labels import PROVISIONAL_MARK
from sample_province.generate import generate

from .conftest import run_whole_job
from .test_crash_and_recover import KEY, _env, _run


@pytest.fixture(scope="module")
def first_days(tmp_path_factory) -> Path:
    """A province whose exports start on 2 January 2024 and have reached the 12th: no month is complete."""
    root = tmp_path_factory.mktemp("first_days")
    generate(root / "landing", seed=5, scale=0.05, start=date(2024, 1, 2), end=date(2024, 1, 12))
    return root


def test_a_landing_with_no_complete_month_publishes_and_gets_a_provisional_pack(first_days, monkeypatch):
    root = first_days
    outcome = run_whole_job(root, KEY)
    assert outcome.ok and outcome.published and "reports:report_month_complete" in outcome.warnings
    assert outcome.metadata["reports"]["provisional"] is True
    reports = root / "published" / "reports"
    assert [p.name for p in reports.iterdir()] == ["2024-01_tam_tinh"]
    pack = reports / "2024-01_tam_tinh"
    province = openpyxl.load_workbook(pack / "tong_hop_2024-01_tam_tinh.xlsx")
    unit = openpyxl.load_workbook(next((pack / "don_vi").iterdir()))
    for sheet in [*province.worksheets, *unit.worksheets]:  # every sheet, so every printed page (title rows repeat)
        assert str(sheet["A1"].value).startswith(PROVISIONAL_MARK), (sheet.title, sheet["A1"].value)
    dashboard = (pack / "dashboard.html").read_text(encoding="utf-8")
    assert f"<title>{PROVISIONAL_MARK}" in dashboard and 'id="provisional"' in dashboard
    for key, value in _env(root).items():
        monkeypatch.setenv(key, value)
    assert nothing_new(Settings.from_env()) is not None, "the run completed: the next one with nothing new stops"

    runner = CliRunner()
    refused = runner.invoke(cli, ["report"])
    assert refused.exit_code == 1
    assert "01/2024 is not a complete month" in refused.output and "no month is complete yet" in refused.output
    assert "--provisional" in refused.output
    done = runner.invoke(cli, ["report", "--provisional", "--out", str(root / "mine")])
    assert done.exit_code == 0 and "provisional report pack" in done.output, done.output
    assert [p.name for p in (root / "mine").iterdir()] == ["2024-01_tam_tinh"]


def test_an_empty_landing_publishes_nothing_and_names_the_landing_folder(first_days, tmp_path):
    import shutil

    shutil.copytree(first_days / "landing" / "reference", tmp_path / "landing" / "reference")
    (tmp_path / "landing" / "dossiers").mkdir()
    outcome = _run(tmp_path)
    assert not outcome.ok and not outcome.published and not (tmp_path / "published" / "tthc_marts.duckdb").exists()
    assert outcome.failed_checks == ["raw/dossier_snapshots:dossiers_loaded"] and outcome.error is None
    with duckdb.connect(str(tmp_path / "warehouse" / "tthc.duckdb"), read_only=True) as con:
        [(said,)] = con.execute("select detail from quality.check_runs where check_name = 'dossiers_loaded'").fetchall()
    assert said.startswith(f"no dossier at all: nothing that counts was loaded from {tmp_path / 'landing' / 'dossiers'}")
