"""Vietnamese labels of the codes the marts use (levels, indicators, measures, rules), defined once for every
document the project writes for people (workbooks, dashboard, terminal scorecard)."""

from __future__ import annotations

from contracts.rules import rules
from contracts.vocabulary import INDICATORS, STATUS_LABELS

# A pack for a month that is not complete yet (its data may still change): said on every sheet, page and name.
PROVISIONAL_MARK = "TẠM TÍNH (tháng chưa đủ số liệu)"
PROVISIONAL_SUFFIX = "_tam_tinh"

# A unit's value on fewer dossiers than the rules' min_dossiers_to_judge: shown, not judged against its target.
NOT_JUDGED_LABEL = "ít hồ sơ"
NOT_JUDGED_NOTE = "ít hồ sơ: quá ít hồ sơ để đánh giá đạt hay chưa đạt"

LEVELS = ("toan_tinh", "tinh", "huyen", "xa")  # the order people read them in
UNIT_LEVELS = ("tinh", "huyen", "xa")
LEVEL_LABELS = {"toan_tinh": "Toàn tỉnh", "tinh": "Cấp tỉnh", "huyen": "Cấp huyện", "xa": "Cấp xã"}

INDICATOR_LABELS = {
    "online_rate": "Tỷ lệ hồ sơ trực tuyến",
    "digitisation_rate": "Tỷ lệ số hóa hồ sơ",
    "online_payment_rate": "Tỷ lệ thanh toán trực tuyến",
    "on_time_rate": "Tỷ lệ giải quyết đúng hạn",
    "e_result_rate": "Tỷ lệ cấp kết quả điện tử",
}
assert tuple(INDICATOR_LABELS) == INDICATORS, "every indicator of the contract has a label"

# the unit-report headers where a measure has one (the measure's name as a unit's officer reads it)
MEASURE_LABELS = {
    **{measure: header for measure, header in rules().report_measures.items()},
    "paper_result_resolved": "Số hồ sơ giải quyết có kết quả bản giấy",
    "e_result_issued": "Số hồ sơ được cấp kết quả điện tử",
}
assert set(MEASURE_LABELS) >= set(rules().measures), "every measure of the contract has a label"

RULE_LABELS = {
    "not_a_count": "Giá trị không phải số đếm",
    "part_exceeds_whole": "Số thành phần lớn hơn tổng",
    "unknown_unit": "Đơn vị không có trong danh mục",
    "mismatch_with_system": "Lệch so với số liệu hệ thống",
    "superseded": "Đã được báo cáo sau thay thế",
    "missing_report": "Không gửi báo cáo",
}
SEVERITY_LABELS = {"error": "Lỗi", "warning": "Cảnh báo"}
MEETS_LABELS = {True: "Đạt", False: "Chưa đạt"}

__all__ = ["INDICATOR_LABELS", "LEVELS", "LEVEL_LABELS", "MEASURE_LABELS", "MEETS_LABELS", "RULE_LABELS",
           "SEVERITY_LABELS", "STATUS_LABELS", "UNIT_LEVELS"]


def month_label(value) -> str:
    """`02/2024` for the month of a date."""
    return f"{value.month:02d}/{value.year}"


def percent_label(value: float | None, digits: int = 1) -> str:
    """`90,0%` (Vietnamese decimal comma); empty for no value."""
    return "" if value is None else f"{value * 100:.{digits}f}%".replace(".", ",")


def points_label(value: float | None) -> str:
    """`+62,0` percentage points; empty for no value."""
    return "" if value is None else f"{value:+.1f}".replace(".", ",")
