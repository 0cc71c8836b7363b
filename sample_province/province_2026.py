"""The `bac_ninh_2026` profile: the province as it is in late 2026 (domain.md, "Reorganisations").

- Old Bắc Ninh (codes ...H02, the 2023 profile's units) and old Bắc Giang (...H10) until 30 June 2025.
- 1 January 2025: the 8 district one-stop offices of old Bắc Ninh become branches of the provincial public
  administration service centre (level tinh): each district unit ends with its branch as successor.
- 1 July 2025 (Resolution 202/2025/QH15, Resolution 1658/NQ-UBTVQH15): the district level ends without successor
  (open dossiers are handed to the commune that took over its procedures); the 313 communes and wards are merged,
  whole, into 99 new ones with new codes (...H24); the departments of the two provinces merge into 14.
- A 2026 plan (programme `kh_cds_2026`) beside Directive 10, which ends with the old province.

Calibration (sources: domain.md, from the province's reports on its first months): the new province received
about 900,000 dossiers in its first four months (about 2.5 million a year at scale 1), over 87% of them online,
over 93% digitised, and issued almost every result electronically. Before the merger the rates are the
Directive 10 levels the old provinces had reached (2023 profile: about 90% online, 97% digitised).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import polars as pl

from sample_province import calibration
from sample_province.dossiers import ProfileRates
from sample_province.reference import CATALOGUE, DEPARTMENTS, UNCATALOGUED_PROCEDURES, Unit, _commune_names
from sample_province.reference import build_units as build_bac_ninh_units

START, END = date(2024, 6, 1), date(2026, 10, 31)
BRANCHES_FROM = date(2025, 1, 1)
MERGER = date(2025, 7, 1)
BEFORE_MERGER = MERGER - timedelta(days=1)
NEW_SUFFIX, BAC_GIANG_SUFFIX = "H24", "H10"
NEW_COMMUNES = 99
NEW_DEPARTMENTS = 14

# old Bắc Giang: 16 departments and 10 district-level units with their 193 communes (313 with old Bắc Ninh's 120)
BAC_GIANG_DISTRICTS = [("thành phố Bắc Giang", 22), ("huyện Yên Thế", 19), ("huyện Tân Yên", 21),
                       ("huyện Lạng Giang", 20), ("huyện Lục Nam", 22), ("huyện Lục Ngạn", 20),
                       ("huyện Sơn Động", 17), ("thị xã Việt Yên", 17), ("huyện Yên Dũng", 18), ("huyện Hiệp Hòa", 17)]
BAC_GIANG_DEPARTMENT_VOLUME = 0.85  # relative to old Bắc Ninh's department of the same field
BAC_GIANG_DISTRICT_VOLUME, BAC_GIANG_COMMUNE_VOLUME = 1400, 75
# monthly volumes after the merger, at scale 1: ~208,000 dossiers a month in all, ~2.5 million a year
NEW_COMMUNE_VOLUME, NEW_DEPARTMENT_VOLUME, BRANCH_VOLUME = 1500, 3000, 1600

TARGETS_2026 = {  # kh_cds_2026, from 2026-01-01 (the province's 2026 plan: its first-months figures as the bar)
    ("online_rate", "tinh"): 0.90, ("online_rate", "xa"): 0.87, ("online_rate", "toan_tinh"): 0.88,
    ("digitisation_rate", "tinh"): 0.95, ("digitisation_rate", "xa"): 0.93, ("digitisation_rate", "toan_tinh"): 0.93,
    ("online_payment_rate", "tinh"): 0.60, ("online_payment_rate", "xa"): 0.55,
    ("online_payment_rate", "toan_tinh"): 0.55,
    ("on_time_rate", "tinh"): 0.97, ("on_time_rate", "xa"): 0.98, ("on_time_rate", "toan_tinh"): 0.97,
    ("e_result_rate", "tinh"): 0.95, ("e_result_rate", "xa"): 0.95, ("e_result_rate", "toan_tinh"): 0.95,
}
PROGRAMMES = [  # programme_code, name, effective_date, baseline_months, end_date
    ("ct10_2023", "Chỉ thị 10/CT-UBND", date(2023, 6, 1), 12, BEFORE_MERGER),
    ("kh_cds_2026", "Kế hoạch chuyển đổi số năm 2026", date(2026, 1, 1), 6, None),
]

_XA = tuple(p.code for p in CATALOGUE["xa"] + UNCATALOGUED_PROCEDURES["xa"])
_HUYEN = tuple(p.code for p in CATALOGUE["huyen"] + UNCATALOGUED_PROCEDURES["huyen"])


def build_units() -> list[Unit]:
    """Every unit of the two old provinces and of the new one, with validity and successors."""
    bac_ninh = build_bac_ninh_units()
    bac_giang = _bac_giang_units()
    old_districts = [u for u in bac_ninh if u.level == "huyen"]
    branches = []
    for number in range(1, len(old_districts) + 1):
        branches.append(Unit(code=f"000.00.{40 + number:02d}.H02", level="tinh", monthly_volume=BRANCH_VOLUME,
                             name=f"Chi nhánh số {number} Trung tâm Phục vụ hành chính công tỉnh",
                             valid_from=BRANCHES_FROM, procedures=_HUYEN))
    successor_of: dict[str, str] = {d.code: b.code for d, b in zip(old_districts, branches, strict=True)}
    units = [replace(u, valid_to=BRANCHES_FROM - timedelta(days=1), successor_code=successor_of[u.code])
             if u.code in successor_of else u for u in bac_ninh] + branches + bac_giang
    # the communes and wards valid on the eve of the merger, whole, into 99 new ones (3 or 4 each, in code order)
    communes = sorted((u for u in units if u.level == "xa" and u.valid_to is None), key=lambda u: (u.parent_code, u.code))
    new_communes = []
    groups = np.array_split(np.arange(len(communes)), NEW_COMMUNES)
    for number, members in enumerate(groups, start=1):
        first = communes[members[0]]
        kind = "Phường" if "Phường" in first.name else "Xã"
        code = f"000.{number:02d}.90.{NEW_SUFFIX}"
        new_communes.append(Unit(code=code, name=f"UBND {kind} {first.name.split(' ', 2)[-1]} mới", level="xa",
                                 valid_from=MERGER, monthly_volume=NEW_COMMUNE_VOLUME, procedures=_XA))
        for i in members:
            successor_of[communes[i].code] = code
    departments = sorted((u for u in units if u.level == "tinh" and u.valid_to is None and u not in branches),
                         key=lambda u: u.code)
    new_departments = []
    for number in range(NEW_DEPARTMENTS):
        key, name, _, _ = DEPARTMENTS[number]
        new_departments.append(Unit(code=f"000.00.{number + 1:02d}.{NEW_SUFFIX}", name=name, level="tinh",
                                    valid_from=MERGER, monthly_volume=NEW_DEPARTMENT_VOLUME,
                                    procedures=tuple(p.code for p in CATALOGUE[key])))
    for position, department in enumerate(departments):
        successor_of.setdefault(department.code, new_departments[position % NEW_DEPARTMENTS].code)
    ended = []
    for u in units:
        if u.valid_to is None and u.code in successor_of:
            u = replace(u, valid_to=BEFORE_MERGER, successor_code=successor_of[u.code])
        elif u.valid_to is None and u.level == "huyen":  # the district level ends without successor
            u = replace(u, valid_to=BEFORE_MERGER)
        ended.append(u)
    return ended + new_departments + new_communes


def _bac_giang_units() -> list[Unit]:
    units = []
    for number, (key, name, _, _) in enumerate(DEPARTMENTS[:16], start=1):
        volume = next(v for k, _, v, _ in DEPARTMENTS if k == key) * BAC_GIANG_DEPARTMENT_VOLUME
        units.append(Unit(code=f"000.00.{number:02d}.{BAC_GIANG_SUFFIX}", level="tinh", monthly_volume=volume,
                          name=name.replace("tỉnh Bắc Ninh", "tỉnh Bắc Giang") + " (Bắc Giang)",
                          procedures=tuple(p.code for p in CATALOGUE[key])))
    offset = 500  # names not used by old Bắc Ninh's communes
    for number, (name, communes) in enumerate(BAC_GIANG_DISTRICTS, start=21):
        district = f"000.00.{number:02d}.{BAC_GIANG_SUFFIX}"
        units.append(Unit(code=district, name=f"UBND {name}", level="huyen", monthly_volume=BAC_GIANG_DISTRICT_VOLUME,
                          procedures=_HUYEN))
        for i, stem in enumerate(_commune_names(communes, offset), start=1):
            units.append(Unit(code=f"000.{i:02d}.{number:02d}.{BAC_GIANG_SUFFIX}", name=f"UBND Xã {stem}", level="xa",
                              parent_code=district, monthly_volume=BAC_GIANG_COMMUNE_VOLUME, procedures=_XA))
        offset += communes
    return units


def handover_targets(units: list[Unit]) -> dict[str, str]:
    """Who takes over an ended unit's open dossiers: its successor, or, for a district that ended without one,
    the new commune that took over its procedures (the successor of its first commune)."""
    targets = {u.code: u.successor_code for u in units if u.successor_code}
    for u in units:
        if u.level == "huyen" and u.valid_to is not None and not u.successor_code:
            first = min((c for c in units if c.parent_code == u.code and c.successor_code), key=lambda c: c.code)
            targets[u.code] = first.successor_code
    return targets


def rates(units: list[Unit], rng: np.random.Generator) -> ProfileRates:
    """Per-unit probabilities before and after the merger, spread around the province's figures: after it, some
    units stay below the 2026 plan's targets and a few far below (calibration.laggard_rates), and each unit reaches
    its new rates at its own pace (calibration.MONTHS_TO_ADOPT)."""
    n = len(units)
    level = np.array([u.level for u in units])

    def around(indicator: str, before: float, after: float, spread: float) -> np.ndarray:
        noise = rng.uniform(-spread, spread, size=(n, 2))
        table = np.clip(np.column_stack([np.full(n, before), np.full(n, after)]) + noise, 0, 1)
        return with_laggards(indicator, table)

    def with_laggards(indicator: str, table: np.ndarray) -> np.ndarray:
        lag = rng.random(n)
        for lv in ("tinh", "xa"):
            mask = level == lv
            table[mask, 1] = calibration.laggard_rates(table[mask, 1], lag[mask], TARGETS_2026[(indicator, lv)],
                                                       calibration.COMMUNE_LAGGARDS[indicator])
        return np.clip(table, 0, 1)

    on_time = np.column_stack([np.select([level == "tinh", level == "huyen"], [0.975, 0.97], 0.99),
                               np.select([level == "tinh"], [0.985], 0.993)])
    return ProfileRates(switch=MERGER, online=around("online_rate", 0.88, 0.91, 0.03),
                        digitised=around("digitisation_rate", 0.95, 0.955, 0.02),
                        paid_online=around("online_payment_rate", 0.45, 0.66, 0.08),
                        on_time=with_laggards("on_time_rate", on_time.astype(float)),
                        e_result=around("e_result_rate", 0.70, 0.985, 0.02),
                        months_to_adopt=rng.uniform(*calibration.MONTHS_TO_ADOPT, n))


def handed_over(dossiers: pl.DataFrame, snapshots: pl.DataFrame, units: list[Unit]) -> pl.DataFrame:
    """The snapshots with `snapshot_unit_code`: the unit holding the dossier when the snapshot was exported, where it
    is not the unit that received it (a snapshot after that unit ended shows its successor, hop by hop)."""
    ends = {u.code: u.valid_to for u in units if u.valid_to is not None}
    targets = handover_targets(units)
    frame = snapshots.join(dossiers.select("dossier_id", "unit_code"), on="dossier_id", how="left")
    frame = frame.with_columns(holder=pl.col("unit_code"))
    holder = pl.col("holder")
    for _ in range(4):  # a dossier is handed on at most a few times (district -> branch; commune -> new commune)
        end = holder.replace_strict(ends, default=None, return_dtype=pl.Date)
        moved = end.is_not_null() & (pl.col("updated_at").dt.date() > end)
        frame = frame.with_columns(holder=pl.when(moved).then(
            holder.replace_strict(targets, default=None, return_dtype=pl.String)).otherwise(holder))
    return frame.with_columns(snapshot_unit_code=pl.when(holder != pl.col("unit_code")).then(holder)
                              ).drop("unit_code", "holder")
