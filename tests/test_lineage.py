"""Unit lineage and programmes at the landing (issue #12): the lineage rules of units.csv, a broken reference
rejected whole while the previous one stays in force, programmes.csv as a reference batch with its ledger row."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingestion.ingest import ingest_landing
from ingestion.lineage import UnitValidity, current_units, lineage_errors, successor_cycles

from .conftest import PII_KEY


def unit(code, start="2015-01-01", end=None, successor=None) -> UnitValidity:
    return UnitValidity(code, date.fromisoformat(start), date.fromisoformat(end) if end else None, successor)


SOUND = [
    unit("A", end="2023-09-30", successor="B"),  # a chain A -> B -> C
    unit("B", start="2023-10-01", end="2025-06-30", successor="C"),
    unit("S", end="2025-06-30", successor="C"),  # a merge: B and S into C
    unit("C", start="2025-07-01"),
    unit("D", end="2025-06-30"),  # a district: ends without successor
    unit("E"),
]


def test_a_sound_lineage_has_no_error_and_every_unit_reaches_its_current_unit():
    assert lineage_errors(SOUND) == []
    assert current_units(SOUND) == {"A": "C", "B": "C", "S": "C", "C": "C", "D": "D", "E": "E"}


@pytest.mark.parametrize(("units", "expected"), [
    ([unit("A", successor="B"), unit("B")], r"successor_code without valid_to: A \(successor B\)"),
    ([unit("A", end="2023-09-30", successor="Z")], r"not in the file: A -> Z"),
    ([unit("A", end="2023-09-30", successor="B"), unit("B", start="2023-11-01")],
     r"not valid on the day after its predecessor ends: A ends 2023-09-30 but B is valid 2023-11-01\.\., not on 2023-10-01"),
    ([unit("A", end="2023-09-30", successor="B"), unit("B", end="2023-08-31")],
     r"B is valid 2015-01-01\.\.2023-08-31, not on 2023-10-01"),
    ([unit("A", end="2023-09-30", successor="B"), unit("B", end="2023-09-30", successor="A")],
     r"form a cycle: A -> B -> A"),
])
def test_each_kind_of_broken_lineage_is_named(units, expected):
    import re

    errors = lineage_errors(units)
    assert any(re.search(expected, e) for e in errors), errors


def test_cycles_are_found_once_whatever_unit_they_are_entered_from():
    units = [unit("X", end="2020-01-01", successor="Y"), unit("Y", end="2020-01-01", successor="Z"),
             unit("Z", end="2020-01-01", successor="Y"), unit("P", end="2020-01-01", successor="P")]
    assert successor_cycles(units) == [["P"], ["Y", "Z"]]


def _units_csv(path: Path, rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["unit_code", "unit_name", "level", "parent_code", "valid_from",
                                                "valid_to", "successor_code"])
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def test_a_units_file_with_a_broken_lineage_is_rejected_whole_and_the_previous_one_stays(landing, tmp_path):
    units_csv = landing / "reference" / "units.csv"
    rows = list(csv.DictReader(io.StringIO(units_csv.read_text(encoding="utf-8"))))
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        ingest_landing(landing, con, PII_KEY)
    broken = [dict(r) for r in rows]
    broken[0].update(valid_to="2024-12-31", successor_code="000.99.99.H02")  # a successor that does not exist
    broken[1].update(successor_code=broken[2]["unit_code"])  # a successor without an end
    _units_csv(units_csv, broken)
    with duckdb.connect(str(db)) as con:
        report = ingest_landing(landing, con, PII_KEY)
        in_force = con.execute("select count(*) from raw.reference_units where batch_seq = "
                               "(select max(batch_seq) from raw.reference_units)").fetchall()[0][0]
        ledger = con.execute("select status, error, rows_loaded from raw.ingestion_ledger "
                             "where file_path = 'reference/units.csv' order by batch_seq").fetchall()
    [outcome] = [o for o in report.outcomes if o.file_path == "reference/units.csv"]
    assert outcome.status == "rejected"
    assert f"{rows[0]['unit_code']} -> 000.99.99.H02" in outcome.error
    assert rows[1]["unit_code"] in outcome.error and "previous reference stays in force" in outcome.error
    assert [s for s, _, _ in ledger] == ["loaded", "rejected"] and ledger[1][2] == 0
    assert in_force == len(rows), "the first file is still the reference in force"


def test_programmes_csv_is_a_reference_batch_with_its_ledger_row_and_targets_carry_their_programme(landing, tmp_path):
    (landing / "reference" / "programmes.csv").write_text(
        "programme_code,programme_name,effective_date,baseline_months,end_date\n"
        "ct10_2023,Chỉ thị 10/CT-UBND,2023-06-01,12,2025-06-30\n"
        "kh_2026,Kế hoạch chuyển đổi số 2026,2026-01-01,6,\n"
        "bad,Thiếu tháng,2026-01-01,zero,\n", encoding="utf-8")
    targets = landing / "reference" / "targets.csv"
    lines = targets.read_text(encoding="utf-8").splitlines()
    targets.write_text("\n".join([lines[0] + ",programme_code", *(line + "," for line in lines[1:]),
                                  "online_rate,xa,0.9,2026-01-01,,kh_2026"]) + "\n", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        report = ingest_landing(landing, con, PII_KEY)
        programmes = con.execute("select programme_code, baseline_months, end_date from raw.reference_programmes "
                                 "order by programme_code").fetchall()
        programme_of = con.execute("select coalesce(programme_code, '-'), count(*) from raw.reference_targets "
                                   "group by 1 order by 1").fetchall()
    [outcome] = [o for o in report.outcomes if o.file_path == "reference/programmes.csv"]
    assert (outcome.kind, outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("reference", "loaded", 2, 1)
    assert programmes == [("ct10_2023", 12, date(2025, 6, 30)), ("kh_2026", 6, None)]
    assert programme_of == [("-", len(lines) - 1), ("kh_2026", 1)]
