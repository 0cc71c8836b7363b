"""Vietnamese labels of the codes the marts use (levels, indicators, measures, rules), defined once for every
document the project writes for people (workbooks, dashboard, terminal scorecard)."""

from __future__ import annotations

from contracts.rules import rules
from contracts.vocabulary import STATUS_LABELS

NOT_APPLICABLE = "–"  # a rate with no dossier in its denominator (a unit with no fee-bearing dossier)
# A pack for a month that is not complete yet (its data may still change): said on every sheet, page and name.
PROVISIONAL_MARK = "TẠM TÍNH (tháng chưa đủ số liệu)"
PROVISIONAL_SUFFIX = "_tam_tinh"

# A unit's value on fewer dossiers than the rules' min_dossiers_to_judge: shown, not judged against its target.
NOT_JUDGED_LABEL = "ít hồ sơ"
NOT_JUDGED_NOTE = "ít hồ sơ: quá ít hồ sơ để đánh giá đạt hay chưa đạt"

LEVELS = ("toan_tinh", "tinh", "huyen", "xa")  # the order people read them in
UNIT_LEVELS = ("tinh", "huyen", "xa")
LEVEL_LABELS = {"toan_tinh": "Toàn tỉnh", "tinh": "Cấp tỉnh", "huyen": "Cấp huyện", "xa": "Cấp xã"}

INDICATOR_LABELS: dict[str, str] = rules().indicator_labels  # the vars' indicator_labels, in the indicators' order

# the unit-report headers where a measure has one (the measure's name as a unit's officer reads it)
INDEX766_TITLE = "Chỉ số 766 (ước tính, 42/100 điểm từ dữ liệu hồ sơ)"
INDEX766_NOTE = ("Ước tính từ dữ liệu hồ sơ của nền tảng, không phải điểm chính thức của Cổng Dịch vụ công quốc gia: "
                 "42 trên 100 điểm của Chỉ số 766 (tiến độ giải quyết 20, nộp trực tuyến 6, thanh toán trực tuyến 6, "
                 "kết quả điện tử 6, số hóa hồ sơ 4).")
METRIC_LABELS = {
    "on_time": "Tiến độ giải quyết (đúng hạn)",
    "online_submission": "Nộp hồ sơ trực tuyến",
    "online_payment": "Thanh toán trực tuyến",
    "e_result": "Cấp kết quả điện tử",
    "digitisation": "Số hóa hồ sơ",
}
assert set(METRIC_LABELS) == set(rules().index766), "every metric of the 766 estimate has a label"

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
# what the unit does about each rule it broke (the province workbook and the unit's own workbook)
RULE_ACTIONS = {
    "not_a_count": "Sửa số liệu (số nguyên, không âm) và gửi lại báo cáo",
    "part_exceeds_whole": "Kiểm tra lại các số thành phần và gửi lại báo cáo",
    "unknown_unit": "Báo cáo theo mã đơn vị đang có hiệu lực (đơn vị kế thừa)",
    "mismatch_with_system": "Đối chiếu với hồ sơ trên hệ thống một cửa điện tử và gửi báo cáo điều chỉnh",
    "superseded": "Không cần xử lý: báo cáo gửi sau đã thay thế",
    "missing_report": "Gửi báo cáo định kỳ của tháng",
}
assert set(RULE_ACTIONS) == set(RULE_LABELS)
SEVERITY_LABELS = {"error": "Lỗi", "warning": "Cảnh báo"}
# what a warning of the run that published means, for people (the check ids are for the engineers' quality page)
CHECK_LABELS = {
    "no_quarantined_rows": "có dòng dữ liệu bị loại khi nhập",
    "no_rejected_files": "có tệp dữ liệu bị từ chối",
    "gx_unit_reports": "có báo cáo định kỳ của đơn vị chưa khớp số liệu",
    "late_dossiers_explained": "có hồ sơ trễ hạn lâu chưa được giải trình",
    "dossier_export_is_fresh": "chưa nhận dữ liệu hồ sơ mới trong 36 giờ",
    "report_month_complete": "tháng báo cáo chưa đủ số liệu",
}
OTHER_CHECK_LABEL = "kiểm tra kỹ thuật khác (xem trang chất lượng dữ liệu)"
MEETS_LABELS = {True: "Đạt", False: "Chưa đạt"}

__all__ = ["CHECK_LABELS", "INDEX766_NOTE", "INDEX766_TITLE", "INDICATOR_LABELS", "METRIC_LABELS", "LEVELS", "LEVEL_LABELS", "MEASURE_LABELS", "MEETS_LABELS",
           "RULE_ACTIONS", "RULE_LABELS", "SEVERITY_LABELS", "STATUS_LABELS", "UNIT_LEVELS"]


def month_label(value) -> str:
    """`02/2024` for the month of a date."""
    return f"{value.month:02d}/{value.year}"


def percent_label(value: float | None, digits: int = 1) -> str:
    """`90,0%` (Vietnamese decimal comma); empty for no value."""
    return "" if value is None else f"{value * 100:.{digits}f}%".replace(".", ",")


def points_label(value: float | None) -> str:
    """`+62,0` percentage points; empty for no value."""
    return "" if value is None else f"{value:+.1f}".replace(".", ",")
