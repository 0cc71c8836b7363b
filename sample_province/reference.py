"""Reference data of the sample province (Bắc Ninh before the 2025 merger): units, procedures, targets.

Fixed, not drawn from the seed: the organisation tree and the catalogue are facts of the province, and the
calibration (13 of 17 provincial units over 85% online, ...) is designed on them.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from contracts.rules import rules

PROVINCE_SUFFIX = "H02"


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    field: str
    online_service_level: str  # toan_trinh / mot_phan / khong
    paper_result: bool
    fee: int  # typical fee in VND; 0 = no fee
    legal_days: int  # processing time limit, working days
    weight: float  # share of the unit's volume


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    level: str
    parent_code: str = ""
    valid_from: date = date(2015, 1, 1)
    valid_to: date | None = None
    successor_code: str = ""
    monthly_volume: float = 0.0  # dossiers a month at scale 1
    online_low: bool = False  # designed below the level's online target (for the 13/17 and 7/8 figures)
    procedures: tuple[str, ...] = field(default_factory=tuple)


PROCEDURES_CSV = Path(__file__).with_name("procedures.csv")


def _load_catalogue() -> tuple[dict[str, list[Procedure]], dict[str, list[Procedure]]]:
    """procedures.csv: per owner (department short key, or `huyen` / `xa` for the district and commune sets),
    the procedures units use, catalogued (in reference/procedures.csv) or not yet (the catalogue lags behind)."""
    catalogued: dict[str, list[Procedure]] = {}
    uncatalogued: dict[str, list[Procedure]] = {}
    with open(PROCEDURES_CSV, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            procedure = Procedure(row["code"], row["name"], row["field"], row["online_service_level"],
                                  row["paper_result"] == "true", int(row["fee"]), int(row["legal_days"]),
                                  float(row["weight"]))
            (catalogued if row["catalogued"] == "true" else uncatalogued).setdefault(row["owner"], []).append(procedure)
    return catalogued, uncatalogued


CATALOGUE, UNCATALOGUED_PROCEDURES = _load_catalogue()

# 17 provincial departments and agencies: (short key, name, monthly volume, online_low)
DEPARTMENTS = [
    ("noi_vu", "Sở Nội vụ", 60, False),
    ("tu_phap", "Sở Tư pháp", 900, False),
    ("ke_hoach_dau_tu", "Sở Kế hoạch và Đầu tư", 700, False),
    ("tai_chinh", "Sở Tài chính", 40, False),
    ("cong_thuong", "Sở Công Thương", 350, False),
    ("nong_nghiep", "Sở Nông nghiệp và Phát triển nông thôn", 150, False),
    ("giao_thong_van_tai", "Sở Giao thông vận tải", 1400, True),
    ("xay_dung", "Sở Xây dựng", 250, True),
    ("tai_nguyen_moi_truong", "Sở Tài nguyên và Môi trường", 1800, True),
    ("thong_tin_truyen_thong", "Sở Thông tin và Truyền thông", 50, False),
    ("lao_dong_thuong_binh_xa_hoi", "Sở Lao động - Thương binh và Xã hội", 450, True),
    ("van_hoa_the_thao_du_lich", "Sở Văn hóa, Thể thao và Du lịch", 120, False),
    ("khoa_hoc_cong_nghe", "Sở Khoa học và Công nghệ", 60, False),
    ("giao_duc_dao_tao", "Sở Giáo dục và Đào tạo", 500, False),
    ("y_te", "Sở Y tế", 500, False),
    ("ngoai_vu", "Sở Ngoại vụ", 30, False),
    ("quan_ly_khu_cong_nghiep", "Ban Quản lý các khu công nghiệp tỉnh Bắc Ninh", 640, False),
]

# 8 district-level units: (code number, name, monthly volume, communes, wards-first?, online_low)
DISTRICTS = [
    (21, "UBND thành phố Bắc Ninh", 2600, 19, True, False),
    (22, "UBND thành phố Từ Sơn", 2000, 12, True, False),
    (23, "UBND thị xã Quế Võ", 1700, 19, True, False),
    (24, "UBND thị xã Thuận Thành", 1600, 16, True, False),
    (25, "UBND huyện Yên Phong", 1700, 14, False, False),
    (26, "UBND huyện Tiên Du", 1500, 14, False, False),
    (27, "UBND huyện Gia Bình", 1200, 13, False, False),
    (28, "UBND huyện Lương Tài", 1200, 14, False, True),
]
COMMUNE_MONTHLY_VOLUME = 13_500  # all communes together, a month

_NAME_FIRST = ["Đông", "Tây", "Nam", "Hòa", "Tân", "Phú", "Yên", "Đại", "Trung", "Quảng", "Long", "An", "Thái",
               "Vạn", "Đình", "Kim", "Văn", "Phù", "Song", "Hương", "Mão", "Cảnh", "Việt", "Lạc", "Minh"]
_NAME_SECOND = ["Phong", "Sơn", "Lâm", "Hưng", "Thịnh", "Xá", "Hồ", "Mỹ", "Chân", "Khê", "Đức", "Tiến", "Hợp",
                "Bình", "Lộc", "Thành", "Vệ", "Điền", "Giang", "Lũng", "Cầu", "Ninh", "Dương", "Hà", "Trì"]

# Two communes merged into a new one (a unit abolished with a successor inside the sample's period).
MERGER_DATE = date(2023, 10, 1)


def _commune_names(count: int, offset: int) -> list[str]:
    pairs = list(itertools.product(_NAME_FIRST, _NAME_SECOND))
    step = 7  # co-prime with len(pairs): a deterministic walk that does not repeat
    return [" ".join(pairs[((offset + i) * step) % len(pairs)]) for i in range(count)]


def build_units() -> list[Unit]:
    """The organisation tree of the sample province, with validity and one merger."""
    units: list[Unit] = []
    for number, (key, name, volume, low) in enumerate(DEPARTMENTS, start=1):
        units.append(Unit(code=f"000.00.{number:02d}.{PROVINCE_SUFFIX}", name=name, level="tinh",
                          monthly_volume=volume, online_low=low,
                          procedures=tuple(p.code for p in CATALOGUE[key])))
    huyen_procs = tuple(p.code for p in CATALOGUE["huyen"] + UNCATALOGUED_PROCEDURES["huyen"])
    xa_procs = tuple(p.code for p in CATALOGUE["xa"] + UNCATALOGUED_PROCEDURES["xa"])
    commune_total = sum(d[3] for d in DISTRICTS)
    name_offset = 0
    for number, name, volume, communes, urban, low in DISTRICTS:
        district_code = f"000.00.{number:02d}.{PROVINCE_SUFFIX}"
        units.append(Unit(code=district_code, name=name, level="huyen", monthly_volume=volume, online_low=low,
                          procedures=huyen_procs))
        names = _commune_names(communes, name_offset)
        name_offset += communes
        for i, stem in enumerate(names, start=1):
            kind = "Phường" if urban and i <= (communes * 2) // 3 else "Xã"
            # A deterministic spread of commune sizes (0.5x to 1.6x of the mean).
            weight = 0.5 + ((i * 37 + number * 11) % 23) / 20
            units.append(Unit(code=f"000.{i:02d}.{number:02d}.{PROVINCE_SUFFIX}", name=f"UBND {kind} {stem}",
                              level="xa", parent_code=district_code,
                              monthly_volume=COMMUNE_MONTHLY_VOLUME / commune_total * weight,
                              procedures=xa_procs))
    # normalise commune volumes to the designed total
    xa_sum = sum(u.monthly_volume for u in units if u.level == "xa")
    units = [u if u.level != "xa" else _replace(u, monthly_volume=u.monthly_volume * COMMUNE_MONTHLY_VOLUME / xa_sum)
             for u in units]
    # The merger: communes 01 and 02 of Gia Bình (27) form a new commune, code 000.90.27.H02.
    merged = [f"000.01.27.{PROVINCE_SUFFIX}", f"000.02.27.{PROVINCE_SUFFIX}"]
    successor = f"000.90.27.{PROVINCE_SUFFIX}"
    out: list[Unit] = []
    merged_volume = 0.0
    for u in units:
        if u.code in merged:
            merged_volume += u.monthly_volume
            u = _replace(u, valid_to=date.fromordinal(MERGER_DATE.toordinal() - 1), successor_code=successor)
        out.append(u)
    out.append(Unit(code=successor, name="UBND Xã Đông Cứu", level="xa", parent_code=f"000.00.27.{PROVINCE_SUFFIX}",
                    valid_from=MERGER_DATE, monthly_volume=merged_volume, procedures=xa_procs))
    return out


def _replace(unit: Unit, **changes) -> Unit:
    from dataclasses import replace

    return replace(unit, **changes)


def all_procedures() -> dict[str, Procedure]:
    """Every procedure units use, catalogued or not, by code."""
    procs = {}
    for group in list(CATALOGUE.values()) + list(UNCATALOGUED_PROCEDURES.values()):
        for p in group:
            procs[p.code] = p
    return procs


def catalogued_procedures() -> list[Procedure]:
    return [p for group in CATALOGUE.values() for p in group]


# Directive 10 targets: (indicator, level) -> target. Valid from the Directive's effective date.
DIRECTIVE_EFFECTIVE = rules().directive_effective_date
TARGETS: dict[tuple[str, str], float] = {
    ("online_rate", "tinh"): 0.85,
    ("online_rate", "huyen"): 0.90,
    ("online_rate", "xa"): 0.85,
    ("online_rate", "toan_tinh"): 0.85,
    ("digitisation_rate", "tinh"): 0.90,
    ("digitisation_rate", "huyen"): 0.90,
    ("digitisation_rate", "xa"): 0.80,
    ("digitisation_rate", "toan_tinh"): 0.90,
    ("online_payment_rate", "tinh"): 0.45,
    ("online_payment_rate", "huyen"): 0.30,
    ("online_payment_rate", "xa"): 0.30,
    ("online_payment_rate", "toan_tinh"): 0.40,
    ("on_time_rate", "tinh"): 0.95,
    ("on_time_rate", "huyen"): 0.95,
    ("on_time_rate", "xa"): 0.98,
    ("on_time_rate", "toan_tinh"): 0.95,
    ("e_result_rate", "tinh"): 0.50,
    ("e_result_rate", "huyen"): 0.50,
    ("e_result_rate", "xa"): 0.50,
    ("e_result_rate", "toan_tinh"): 0.50,
}
