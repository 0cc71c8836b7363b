"""The contracts' vocabulary: headers, codes and labels exactly as docs/contracts/landing.md, and the
names of the measures and rates of docs/contracts/kpis.md (their rules: contracts/rules.py).

The readers (ingestion), the sample-province generator and the Great Expectations suites all use these tables,
so they can never disagree about what a header, a label or a measure is.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from contracts.rules import rules

# --- dossier export (hồ sơ) -------------------------------------------------------------------------------
# header -> field, in contract order; True where the column is required.
DOSSIER_COLUMNS: dict[str, tuple[str, bool]] = {
    "Mã hồ sơ": ("dossier_code", True),
    "Mã TTHC": ("procedure_code", True),
    "Tên TTHC": ("procedure_name", False),
    "Mã đơn vị": ("unit_code", True),
    "Kênh nộp": ("channel", True),
    "Ngày tiếp nhận": ("received_at", True),
    "Ngày hẹn trả": ("due_at", False),
    "Ngày kết thúc xử lý": ("finished_at", False),
    "Trạng thái": ("status", True),
    "Phí, lệ phí (đồng)": ("fee_amount", False),
    "Thanh toán trực tuyến": ("paid_online", False),
    "Số biên lai điện tử": ("e_receipt_no", False),
    "Số hóa thành phần hồ sơ": ("components_digitised", False),
    "Có kết quả điện tử": ("e_result", False),
    "Chủ hồ sơ": ("applicant_name", False),
    "Số giấy tờ chủ hồ sơ": ("applicant_id", False),
    "Thời điểm cập nhật": ("updated_at", True),
}

# --- monthly unit report (báo cáo định kỳ): the measures' headers are the rules' report_measures ------------------
UNIT_REPORT_MEASURES: tuple[str, ...] = tuple(rules().report_measures)
UNIT_REPORT_COLUMNS: dict[str, tuple[str, bool]] = {
    "Mã đơn vị": ("unit_code", True),
    "Kỳ báo cáo": ("period", True),
    **{header: (measure, True) for measure, header in rules().report_measures.items()},
    "Ngày gửi": ("submitted_at", True),
}

# --- explanations of late dossiers (giải trình hồ sơ trễ hạn) ---------------------------------------------------
EXPLANATION_COLUMNS: dict[str, tuple[str, bool]] = {
    "Mã hồ sơ": ("dossier_code", True),
    "Mã đơn vị": ("unit_code", True),
    "Lý do trễ hạn": ("reason", True),
    "Ngày giải trình": ("explained_at", True),
    "Số văn bản xin lỗi": ("apology_letter_no", False),
}

# --- the measures and rates of kpis.md (defined in the rules; named here for the readers of the vocabulary) ----
KPI_MEASURES: tuple[str, ...] = tuple(rules().measures)
KPI_RATES: dict[str, tuple[str, str]] = rules().rates

# --- reference files -----------------------------------------------------------------------------------------
UNIT_COLUMNS = ("unit_code", "unit_name", "level", "parent_code", "valid_from", "valid_to", "successor_code")
PROCEDURE_COLUMNS = ("procedure_code", "procedure_name", "field", "online_service_level", "paper_result", "has_fee")
TARGET_COLUMNS = ("indicator", "level", "target", "valid_from", "valid_to", "programme_code")  # programme: optional
PROGRAMME_COLUMNS = ("programme_code", "programme_name", "effective_date", "baseline_months", "end_date")
UNIT_LEVELS = ("tinh", "huyen", "xa")
TARGET_LEVELS = ("tinh", "huyen", "xa", "toan_tinh")
INDICATORS: tuple[str, ...] = tuple(rules().rates)  # the rates of the vars are the indicators, in order
ONLINE_SERVICE_LEVELS = ("toan_trinh", "mot_phan", "khong")

# --- codes and labels ----------------------------------------------------------------------------------------
STATUS_LABELS: dict[int, str] = {
    1: "Mới đăng ký",
    2: "Được tiếp nhận",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ",
    6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}

CHANNEL_LABELS: dict[int, tuple[str, ...]] = {
    1: ("Trực tiếp",),
    2: ("Trực tuyến", "Qua mạng"),
    3: ("Bưu chính công ích", "BCCI"),
}

BOOLEAN_TRUE = ("Có", "1", "x")
BOOLEAN_FALSE = ("Không", "0", "")

PAID_ONLINE_CODES = {0: "not paid online", 1: "national portal", 2: "provincial payment gateway"}

# --- plausible values (landing.md) ---------------------------------------------------------------------------
EARLIEST_TIMESTAMP = datetime(2000, 1, 1)  # a timestamp before this is quarantined
LATEST_AHEAD_OF_INGESTION = timedelta(days=1)  # ... and so is one later than this after the moment of ingestion
MAX_FEE_VND = 100_000_000_000  # a fee above this is quarantined
HOLD_QUARANTINED_SHARE = 0.05  # a batch with a larger share of its rows quarantined is held until reviewed


def label_key(text: str) -> str:
    """The form in which headers and labels are compared: NFC, trimmed, inner spaces folded, case-folded."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def status_lookup() -> dict[str, int]:
    """Every accepted spelling of a status (code or label, by its label_key) -> status code."""
    table = {str(code): code for code in STATUS_LABELS}
    table.update({label_key(label): code for code, label in STATUS_LABELS.items()})
    return table


def channel_lookup() -> dict[str, int]:
    """Every accepted spelling of a channel (code or label, by its label_key) -> channel code."""
    table = {str(code): code for code in CHANNEL_LABELS}
    for code, labels in CHANNEL_LABELS.items():
        table.update({label_key(label): code for label in labels})
    return table


def boolean_lookup() -> dict[str, bool]:
    """Every accepted spelling of a yes/no value (by its label_key) -> bool; empty means no."""
    table = {label_key(v): True for v in BOOLEAN_TRUE}
    table.update({label_key(v): False for v in BOOLEAN_FALSE})
    return table
