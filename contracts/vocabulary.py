"""The contracts' vocabulary: codes and labels exactly as docs/contracts/landing.md, and the names of the measures
and rates of docs/contracts/kpis.md (their rules: contracts/rules.py). The landed files' headers and the raw
tables' columns are declared in contracts/landed_tables.py.

The readers (ingestion), the sample-province generator and the Great Expectations suites all use these tables,
so they can never disagree about what a label or a measure is.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from contracts.rules import rules

# --- the measures and rates of kpis.md (defined in the rules; named here for the readers of the vocabulary) ----
KPI_MEASURES: tuple[str, ...] = tuple(rules().measures)
KPI_RATES: dict[str, tuple[str, str]] = rules().rates

# --- reference files -----------------------------------------------------------------------------------------
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
