"""The sample province generator: determinism, the landing contract's shape and quirks, calibration."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import subprocess
import sys
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from contracts.landed_tables import DOSSIER_COLUMNS, UNIT_REPORT_COLUMNS
from contracts.rules import rules
from contracts.vocabulary import label_key
from sample_province import calibration, dossiers, reference, truth
from sample_province.generate import generate


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_same_bytes_and_another_seed_does_not(tmp_path):
    kwargs = dict(scale=0.01, start=date(2023, 5, 1), end=date(2023, 6, 20))
    a = generate(tmp_path / "a", seed=11, **kwargs)
    generate(tmp_path / "b", seed=11, **kwargs)
    generate(tmp_path / "c", seed=12, **kwargs)
    assert a.dossiers > 0
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    assert _hashes(tmp_path / "a") != _hashes(tmp_path / "c")


def _csv_header(path: Path) -> tuple[list[str], str, bytes]:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    first = text.splitlines()[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    return next(csv.reader([first], delimiter=sep)), sep, raw


def test_dossier_exports_follow_the_contract_with_every_quirk(small_generation):
    landing = small_generation.landing
    special = {p.resolve() for p in small_generation.special_files.values()}
    required = {label_key(h) for h, (_, req) in DOSSIER_COLUMNS.items() if req}
    known = {label_key(h) for h in DOSSIER_COLUMNS}
    seen = {"sep": set(), "bom": set(), "crlf": set(), "nfd_header": False, "upper_header": False, "extra": False,
            "shuffled": False}
    csvs = [p for p in (landing / "dossiers").rglob("*.csv") if p.resolve() not in special]
    assert len(csvs) > 500
    for path in csvs:
        header, sep, raw = _csv_header(path)
        keys = [label_key(h) for h in header]
        assert required <= set(keys), path
        seen["sep"].add(sep)
        seen["bom"].add(raw.startswith(b"\xef\xbb\xbf"))
        seen["crlf"].add(b"\r\n" in raw[:2000])
        seen["nfd_header"] |= any(h != unicodedata.normalize("NFC", h) for h in header)
        seen["upper_header"] |= "MÃ HỒ SƠ" in header
        seen["extra"] |= bool(set(keys) - known)
        seen["shuffled"] |= [k for k in keys if k in known] != [label_key(h) for h in DOSSIER_COLUMNS]
    assert seen["sep"] == {",", ";"} and seen["bom"] == {True, False} and seen["crlf"] == {True, False}
    assert seen["nfd_header"] and seen["upper_header"] and seen["extra"] and seen["shuffled"]
    text = "\n".join(p.read_text(encoding="utf-8-sig") for p in csvs[::5])
    for pattern in (r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
                    r"[,;]\d\d/\d\d/\d{4} \d\d:\d\d[,;]", r"[,;]\d\d/\d\d/\d{4}[,;\r\n]", r"\d\.\d{3}\.\d{3}",
                    r'"\d{1,3},\d{3},\d{3}"', "Đã trả kết quả", "Trực tuyến", "Qua mạng", "Không"):
        assert re.search(pattern, text), pattern


def test_special_files_are_what_the_contract_must_handle(small_generation):
    special = small_generation.special_files
    with pytest.raises(UnicodeDecodeError):
        special["legacy_encoding"].read_bytes().decode("utf-8")
    header, _, _ = _csv_header(special["missing_column"])
    assert label_key("Mã TTHC") not in {label_key(h) for h in header}
    redelivered = special["redelivered"]
    twins = [p for p in (small_generation.landing / "dossiers").rglob("*.csv")
             if p != redelivered and p.read_bytes() == redelivered.read_bytes()]
    assert len(twins) == 1


def test_xlsx_exports_have_title_rows_totals_and_date_cells(small_generation):
    import fastexcel

    files = list((small_generation.landing / "dossiers").rglob("*.xlsx"))
    assert len(files) >= 3
    sheet = fastexcel.read_excel(files[0]).load_sheet(0, header_row=None).to_polars()
    first_cells = sheet.get_column(sheet.columns[0]).cast(pl.String).to_list()
    assert first_cells[0] == "DANH SÁCH HỒ SƠ"
    assert first_cells[-1].startswith("Tổng")
    data = fastexcel.read_excel(files[0]).load_sheet(0, header_row=3).to_polars()  # title, date, blank, header
    assert any(isinstance(dtype, pl.Datetime) for dtype in data.dtypes)


def test_unit_reports_cover_every_rule_of_the_contract(small_generation):
    rules = {p["rule"] for p in small_generation.planted_report_defects}
    assert rules == {"missing_report", "mismatch_with_system", "part_exceeds_whole", "not_a_count", "superseded",
                     "unknown_unit"}
    files = list((small_generation.landing / "unit_reports").rglob("*"))
    assert any(p.suffix == ".xlsx" for p in files) and any("dieu_chinh" in p.name for p in files)
    header, _, _ = _csv_header(next(p for p in files if p.suffix == ".csv"))
    assert {label_key(h) for h in header} == {label_key(h) for h in UNIT_REPORT_COLUMNS}


def test_reference_tree_is_bac_ninh_before_the_merger(small_landing):
    units = pl.read_csv(small_landing / "reference" / "units.csv", infer_schema=False)
    at_start = units.filter(pl.col("valid_from") <= "2022-06-01")
    counts = dict(at_start.group_by("level").len().iter_rows())
    assert counts == {"tinh": 17, "huyen": 8, "xa": 121}
    assert {"UBND huyện Lương Tài", "UBND thành phố Từ Sơn", "Sở Tư pháp"} <= set(units["unit_name"])
    procedures = pl.read_csv(small_landing / "reference" / "procedures.csv", infer_schema=False)
    assert procedures.height >= 60 and procedures["procedure_code"].is_unique().all()
    targets = pl.read_csv(small_landing / "reference" / "targets.csv")
    assert targets.filter((pl.col("indicator") == "online_rate") & (pl.col("level") == "tinh"))["target"][0] == 0.85


@pytest.fixture(scope="module")
def default_truth():
    """The ground truth of the default profile at full scale (simulation only, no files)."""
    units = reference.build_units()
    period = dossiers.Period(date(2022, 6, 1), date(2024, 2, 3), reference.DIRECTIVE_EFFECTIVE)
    d, s = dossiers.simulate(units, reference.all_procedures(), period, 1.0, np.random.default_rng(20230601))
    paper = {p.code for p in reference.catalogued_procedures() if p.paper_result}
    per_unit_month = truth.unit_month(truth.final_states(d, s), paper)
    levels = {u.code: u.level for u in units}
    return (truth.level_phase_rates(per_unit_month, levels, period),
            truth.unit_window_rates(per_unit_month, period).with_columns(level=pl.col("unit_code").replace_strict(levels)),
            d.height, per_unit_month.with_columns(level=pl.col("unit_code").replace_strict(levels)))


def test_calibration_reproduces_the_february_2024_report(default_truth):
    rates, _, n, _ = default_truth
    assert 600_000 < n < 800_000  # ~35,000 dossiers a month
    lookup = {(r["level"], r["phase"]): r for r in rates.iter_rows(named=True)}
    for (indicator, level), (window, change) in calibration.ARTICLE.items():
        value = lookup[(level, "window")][indicator]
        assert abs(value - window) < 0.005, (indicator, level, value)
        if change is not None:
            observed = (value - lookup[(level, "baseline")][indicator]) * 100
            assert abs(observed - change) < 1.0, (indicator, level, observed)


def test_calibration_reproduces_the_units_meeting_their_online_target(default_truth):
    _, per_unit, _, _ = default_truth
    for (indicator, level), (meeting, total) in calibration.ARTICLE_UNITS_MEETING.items():
        target = reference.TARGETS[(indicator, level)]
        units = per_unit.filter(pl.col("level") == level)
        assert units.height == total
        assert units.filter(pl.col(indicator) >= target).height == meeting


def test_communes_differ_some_below_every_target_a_few_far_below(default_truth):
    _, per_unit, _, _ = default_truth
    communes = per_unit.filter(pl.col("level") == "xa")
    for indicator, (below_share, far_share) in calibration.COMMUNE_LAGGARDS.items():
        target = reference.TARGETS[(indicator, "xa")]
        values = communes[indicator]
        below = int((values < target).sum())
        far = int((values < target * calibration.FAR_BELOW_OF[1] + 0.01).sum())
        assert round(below_share * communes.height * 0.6) <= below <= round(below_share * communes.height) + 3, \
            (indicator, below)
        assert far >= max(1, round(far_share * communes.height * 0.6)), (indicator, far)
        assert values.max() - values.min() > 0.2 * target, indicator  # not one figure 122 times


def test_adoption_ramps_over_months_after_the_directive_each_unit_at_its_pace(default_truth):
    _, _, _, per_unit_month = default_truth
    num, den = rules().rates["online_rate"]
    start = reference.DIRECTIVE_EFFECTIVE
    months = sorted(m for m in per_unit_month["period_month"].unique() if start <= m < date(2024, 2, 1))
    province = (per_unit_month.group_by("period_month").agg(pl.col(num).sum(), pl.col(den).sum())
                .with_columns(rate=pl.col(num) / pl.col(den)))
    by_month = dict(province.select("period_month", "rate").iter_rows())
    before = by_month[date(start.year, start.month - 1, 1)]
    assert before < by_month[months[0]] < by_month[months[1]] < by_month[months[3]] < by_month[months[-1]]
    assert by_month[months[-1]] - by_month[months[0]] > 0.15  # not a single jump in the Directive's month
    first = per_unit_month.filter((pl.col("period_month") == months[0]) & (pl.col("level") == "xa")
                                  & (pl.col(den) >= 50)).select(rate=pl.col(num) / pl.col(den))["rate"]
    assert first.quantile(0.9) - first.quantile(0.1) > 0.15  # some communes faster than others


def test_laggards_are_ranked_not_drawn_so_their_number_is_exact():
    values = calibration.laggard_rates(np.full(100, 0.95), np.random.default_rng(1).random(100), 0.8, (0.12, 0.03))
    assert (values < 0.8).sum() == 12 and (values < 0.8 * calibration.FAR_BELOW_OF[1]).sum() == 3
    assert (values == 0.95).sum() == 88


def test_a_weighted_quota_stays_exact_and_gathers_where_the_weight_is():
    rng = np.random.default_rng(3)
    group = np.repeat([0, 1], 1000)
    weight = np.tile(np.linspace(0.1, 1, 1000), 2)
    flags = calibration.assign_by_quota(group, np.ones(2000, bool), np.array([700, 300]), rng, weight)
    assert flags[:1000].sum() == 700 and flags[1000:].sum() == 300
    assert flags[:500].sum() < flags[500:1000].sum()
    ramp = calibration.adoption_weights(np.array([-1.0, 0.0, 1.0, 12.0]), np.array([1.0, 1.0, 1.0, 1.0]))
    assert ramp[0] == 1.0 and ramp[1] == pytest.approx(calibration.RAMP_START) and ramp[1] < ramp[2] < ramp[3] < 1.0


def _tthc(*args, env=None):
    return subprocess.run([sys.executable, "-m", "cli.commands", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_cli_errors_are_one_clear_line(tmp_path):
    bad_profile = _tthc("generate", "--profile", "hanoi", "--landing", str(tmp_path / "x"))
    assert bad_profile.returncode == 1
    assert "unknown profile 'hanoi'" in bad_profile.stderr and "Traceback" not in bad_profile.stderr
    bad_scale = _tthc("generate", "--scale", "0", "--landing", str(tmp_path / "x"))
    assert bad_scale.returncode == 1 and "--scale must be positive" in bad_scale.stderr
    no_file = _tthc("scorecard", env={"TTHC_PUBLISHED": str(tmp_path / "none.duckdb")})
    assert no_file.returncode == 1 and "no published marts" in no_file.stderr
