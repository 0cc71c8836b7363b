"""Reference data of the sample province (Bắc Ninh before the 2025 merger): units, procedures, targets.

Fixed, not drawn from the seed: the organisation tree and the catalogue are facts of the province, and the
calibration (13 of 17 provincial units over 85% online, ...) is designed on them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

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


def _p(code, name, fld, level, paper, fee, days, weight):
    return Procedure(code, name, fld, level, paper, fee, days, weight)


# Catalogue per owner: department short key, or "huyen" / "xa" for the district and commune sets.
CATALOGUE: dict[str, list[Procedure]] = {
    "noi_vu": [
        _p("1.003918", "Thủ tục thành lập hội", "Tổ chức phi chính phủ", "mot_phan", True, 0, 30, 1),
        _p("1.005384", "Thủ tục phê duyệt điều lệ hội", "Tổ chức phi chính phủ", "toan_trinh", True, 0, 30, 2),
    ],
    "tu_phap": [
        _p("2.000488", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", "Lý lịch tư pháp", "toan_trinh", True, 200_000, 10, 8),
        _p("2.000505", "Cấp Phiếu lý lịch tư pháp cho người nước ngoài", "Lý lịch tư pháp", "toan_trinh", True, 200_000, 10, 1),
        _p("1.001877", "Đăng ký hành nghề công chứng", "Công chứng", "mot_phan", True, 0, 10, 1),
    ],
    "ke_hoach_dau_tu": [
        _p("2.001610", "Đăng ký thành lập công ty TNHH một thành viên", "Thành lập và hoạt động doanh nghiệp", "toan_trinh", True, 50_000, 3, 5),
        _p("2.002042", "Đăng ký thay đổi nội dung đăng ký doanh nghiệp", "Thành lập và hoạt động doanh nghiệp", "toan_trinh", True, 50_000, 3, 6),
        _p("1.009645", "Cấp Giấy chứng nhận đăng ký đầu tư", "Đầu tư tại Việt Nam", "mot_phan", True, 0, 15, 1),
    ],
    "tai_chinh": [
        _p("1.005423", "Thẩm định phương án giá đất cụ thể", "Quản lý giá", "khong", True, 0, 30, 1),
        _p("2.002181", "Cấp mã số đơn vị có quan hệ với ngân sách", "Tin học - Thống kê", "toan_trinh", False, 0, 2, 2),
    ],
    "cong_thuong": [
        _p("2.000633", "Cấp Giấy phép bán lẻ sản phẩm rượu", "Lưu thông hàng hóa", "toan_trinh", True, 1_200_000, 15, 2),
        _p("2.000190", "Cấp Giấy chứng nhận cửa hàng đủ điều kiện bán lẻ xăng dầu", "Kinh doanh khí", "mot_phan", True, 1_200_000, 15, 1),
        _p("2.000181", "Cấp Giấy xác nhận đủ điều kiện an toàn thực phẩm ngành công thương", "An toàn thực phẩm", "toan_trinh", True, 700_000, 20, 2),
    ],
    "nong_nghiep": [
        _p("1.003310", "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm nông lâm thủy sản", "Quản lý chất lượng nông lâm sản", "toan_trinh", True, 500_000, 15, 2),
        _p("1.004363", "Cấp giấy phép vận chuyển thuốc bảo vệ thực vật", "Bảo vệ thực vật", "toan_trinh", True, 0, 7, 1),
    ],
    "giao_thong_van_tai": [
        _p("1.002809", "Đổi Giấy phép lái xe do ngành Giao thông vận tải cấp", "Đường bộ", "toan_trinh", True, 135_000, 5, 8),
        _p("1.002820", "Cấp lại Giấy phép lái xe", "Đường bộ", "mot_phan", True, 135_000, 10, 2),
        _p("1.001777", "Cấp Giấy phép lái xe quốc tế", "Đường bộ", "toan_trinh", True, 135_000, 5, 1),
        _p("1.002835", "Cấp phù hiệu xe kinh doanh vận tải", "Đường bộ", "toan_trinh", True, 0, 2, 3),
    ],
    "xay_dung": [
        _p("1.009972", "Cấp giấy phép xây dựng mới đối với công trình cấp I, II", "Hoạt động xây dựng", "mot_phan", True, 150_000, 20, 3),
        _p("1.009931", "Cấp chứng chỉ hành nghề hoạt động xây dựng", "Hoạt động xây dựng", "toan_trinh", True, 300_000, 20, 2),
    ],
    "tai_nguyen_moi_truong": [
        _p("1.004227", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", "Đất đai", "mot_phan", True, 500_000, 10, 7),
        _p("1.004238", "Cấp đổi Giấy chứng nhận quyền sử dụng đất", "Đất đai", "mot_phan", True, 100_000, 7, 4),
        _p("1.004269", "Xóa đăng ký thế chấp quyền sử dụng đất", "Đăng ký biện pháp bảo đảm", "toan_trinh", False, 20_000, 1, 5),
        _p("1.004257", "Cấp giấy phép khai thác, sử dụng nước dưới đất", "Tài nguyên nước", "mot_phan", True, 2_000_000, 30, 1),
    ],
    "thong_tin_truyen_thong": [
        _p("1.003703", "Cấp giấy phép xuất bản bản tin", "Báo chí", "toan_trinh", True, 0, 15, 1),
        _p("1.004688", "Cấp giấy phép hoạt động in", "Xuất bản, In và Phát hành", "toan_trinh", True, 0, 10, 1),
    ],
    "lao_dong_thuong_binh_xa_hoi": [
        _p("1.000459", "Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại Việt Nam", "Việc làm", "toan_trinh", True, 600_000, 5, 3),
        _p("1.001978", "Giải quyết hưởng trợ cấp thất nghiệp", "Việc làm", "mot_phan", True, 0, 20, 6),
        _p("1.002305", "Giải quyết chế độ trợ cấp ưu đãi đối với thân nhân liệt sĩ", "Người có công", "khong", True, 0, 20, 1),
    ],
    "van_hoa_the_thao_du_lich": [
        _p("1.001029", "Cấp Giấy phép đủ điều kiện kinh doanh dịch vụ karaoke", "Văn hóa", "toan_trinh", True, 4_000_000, 5, 1),
        _p("1.003742", "Công nhận hạng cơ sở lưu trú du lịch 1 sao, 2 sao, 3 sao", "Du lịch", "toan_trinh", True, 1_500_000, 30, 1),
    ],
    "khoa_hoc_cong_nghe": [
        _p("1.001855", "Đăng ký hoạt động khoa học và công nghệ", "Hoạt động khoa học và công nghệ", "toan_trinh", True, 0, 15, 2),
    ],
    "giao_duc_dao_tao": [
        _p("1.005092", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", "Văn bằng, chứng chỉ", "toan_trinh", True, 0, 3, 6),
        _p("1.001591", "Công nhận văn bằng tốt nghiệp do cơ sở giáo dục nước ngoài cấp", "Văn bằng, chứng chỉ", "toan_trinh", True, 0, 20, 1),
    ],
    "y_te": [
        _p("1.004573", "Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh", "Khám bệnh, chữa bệnh", "toan_trinh", True, 360_000, 30, 3),
        _p("1.002425", "Cấp giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm ngành y tế", "An toàn thực phẩm", "toan_trinh", True, 500_000, 20, 2),
        _p("1.003008", "Cấp giấy chứng nhận đủ điều kiện kinh doanh dược", "Dược phẩm", "mot_phan", True, 3_000_000, 30, 1),
    ],
    "ngoai_vu": [
        _p("1.001722", "Cho phép tổ chức hội nghị, hội thảo quốc tế", "Hợp tác quốc tế", "toan_trinh", True, 0, 15, 1),
    ],
    "quan_ly_khu_cong_nghiep": [
        _p("1.009763", "Cấp giấy phép lao động cho người nước ngoài làm việc trong khu công nghiệp", "Việc làm", "toan_trinh", True, 600_000, 5, 5),
        _p("1.009767", "Điều chỉnh Giấy chứng nhận đăng ký đầu tư trong khu công nghiệp", "Đầu tư tại Việt Nam", "toan_trinh", True, 0, 10, 3),
    ],
    "huyen": [
        _p("1.003003", "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu", "Đất đai", "mot_phan", True, 100_000, 30, 5),
        _p("1.004221", "Đăng ký biến động đất đai (chi nhánh Văn phòng đăng ký đất đai)", "Đất đai", "mot_phan", True, 300_000, 10, 10),
        _p("2.000720", "Cấp giấy chứng nhận đăng ký hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", "toan_trinh", True, 100_000, 3, 8),
        _p("1.011459", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Hoạt động xây dựng", "toan_trinh", True, 75_000, 15, 5),
        _p("2.000908", "Chứng thực bản sao từ bản chính (cấp huyện)", "Chứng thực", "toan_trinh", False, 2_000, 1, 12),
        _p("1.000893", "Đăng ký kết hôn có yếu tố nước ngoài", "Hộ tịch", "mot_phan", True, 1_500_000, 15, 1),
        _p("1.001653", "Giải quyết trợ cấp xã hội hàng tháng", "Bảo trợ xã hội", "toan_trinh", True, 0, 20, 4),
        _p("2.001035", "Cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm (cấp huyện)", "An toàn thực phẩm", "toan_trinh", True, 500_000, 15, 2),
        _p("1.001612", "Cấp giấy phép kinh doanh bán lẻ sản phẩm thuốc lá", "Lưu thông hàng hóa", "toan_trinh", True, 400_000, 10, 2),
        _p("2.002226", "Thủ tục giải quyết khiếu nại lần đầu (cấp huyện)", "Giải quyết khiếu nại", "khong", True, 0, 30, 1),
        _p("1.001266", "Cấp bản sao trích lục hộ tịch (cấp huyện)", "Hộ tịch", "toan_trinh", True, 8_000, 1, 3),
        _p("1.008901", "Thẩm định, phê duyệt phương án bồi thường, hỗ trợ, tái định cư", "Đất đai", "khong", True, 0, 30, 1),
    ],
    "xa": [
        _p("1.001193", "Đăng ký khai sinh", "Hộ tịch", "toan_trinh", True, 0, 1, 16),
        _p("1.000894", "Đăng ký kết hôn", "Hộ tịch", "toan_trinh", True, 0, 1, 5),
        _p("1.000656", "Đăng ký khai tử", "Hộ tịch", "toan_trinh", True, 0, 1, 5),
        _p("2.000815", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "Chứng thực", "toan_trinh", False, 2_000, 1, 25),
        _p("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", "Chứng thực", "toan_trinh", False, 10_000, 1, 8),
        _p("1.004873", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", "toan_trinh", True, 8_000, 1, 6),
        _p("1.004746", "Xác nhận thông tin hộ tịch", "Hộ tịch", "toan_trinh", True, 0, 3, 4),
        _p("1.001022", "Đăng ký nhận cha, mẹ, con", "Hộ tịch", "mot_phan", True, 0, 3, 1),
        _p("2.000986", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, quyền sử dụng đất", "Chứng thực", "mot_phan", True, 50_000, 2, 4),
        _p("1.003583", "Đăng ký thay đổi, cải chính, bổ sung hộ tịch", "Hộ tịch", "toan_trinh", True, 15_000, 3, 2),
        _p("1.004859", "Xác nhận tình trạng hôn nhân", "Hộ tịch", "toan_trinh", True, 0, 3, 6),
        _p("2.001157", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hàng tháng (cấp xã)", "Bảo trợ xã hội", "mot_phan", True, 0, 10, 2),
        _p("1.003622", "Đăng ký giám hộ", "Hộ tịch", "mot_phan", True, 0, 3, 1),
        _p("2.002165", "Hòa giải tranh chấp đất đai", "Đất đai", "khong", True, 0, 30, 1),
        _p("1.001699", "Xác nhận đơn đề nghị hỗ trợ người có công với cách mạng", "Người có công", "mot_phan", False, 0, 5, 1),
    ],
}

# Procedure codes that units use but the catalogue does not list yet (the catalogue lags behind the systems).
UNCATALOGUED_PROCEDURES: dict[str, list[Procedure]] = {
    "xa": [_p("1.012345", "Liên thông đăng ký khai sinh, thường trú, cấp thẻ bảo hiểm y tế", "Hộ tịch", "toan_trinh", True, 0, 5, 1)],
    "huyen": [_p("1.013020", "Cấp giấy xác nhận đủ điều kiện kinh doanh dịch vụ thể thao", "Thể dục thể thao", "toan_trinh", True, 0, 10, 0.5)],
}

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
DIRECTIVE_EFFECTIVE = date(2023, 6, 1)
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
