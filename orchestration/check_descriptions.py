"""What each check verifies, in one line, in English for the Dagster UI and in Vietnamese for the data-quality page.

dbt tests: the test's own description when the YAML gives one; for a generic test, a sentence made from its
arguments (no Jinja, no generated name); for a singular test, the `--` comment at the top of its SQL (English) and
its `-- vi:` line (Vietnamese). The checks written in Python say it here, once (PYTHON_CHECKS_VI; their English is
their Dagster description).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from orchestration.settings import DBT_PROJECT_DIR

PYTHON_CHECKS_VI = {
    "no_held_batch": "Không có lô dữ liệu nào bị giữ lại (quá 5% số dòng bị loại) đang chờ kỹ sư duyệt",
    "dossiers_loaded": "Kho có dữ liệu hồ sơ (thư mục nhận dữ liệu không trống, không trỏ nhầm)",
    "raw_dossier_batch_suite": "Các dòng hồ sơ đã nạp đúng quy định về dữ liệu nhận (bộ kỳ vọng Great Expectations)",
    "raw_unit_report_batch_suite": "Các dòng báo cáo của đơn vị đã nạp đúng quy định về dữ liệu nhận",
    "no_quarantined_rows": "Không có dòng dữ liệu nào bị loại khi nạp",
    "no_rejected_files": "Không có tệp dữ liệu nào bị từ chối từ lần chạy thành công trước",
    "dossier_export_is_fresh": "Đã nhận dữ liệu hồ sơ mới trong 36 giờ qua",
    "received_not_dropped": "Số hồ sơ tiếp nhận của một tháng đã đủ số liệu không giảm quá 1% so với lần công bố trước",
    "late_dossiers_explained": "Hồ sơ trễ hạn quá 30 ngày đều đã được đơn vị giải trình",
    "gx_unit_reports": "Báo cáo định kỳ của đơn vị không vi phạm quy tắc nào (khớp với số liệu hệ thống)",
    "report_month_complete": "Tháng của bộ báo cáo đã đủ số liệu (không phải báo cáo tạm tính)",
}
VI_MARK = "-- vi:"


def _plain(value: Any) -> str:
    """An argument as people read it: `ref('dim_units')` -> dim_units, a var (or its keys, `| list`) -> its name."""
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    text = re.sub(r"ref\(['\"](\w+)['\"]\)", r"\1", text)
    return re.sub(r"\{\{\s*var\(['\"](\w+)['\"]\)((?:\[['\"]\w+['\"]\])*)\s*(?:\|\s*list\s*)?\}\}",
                  lambda m: ".".join([m.group(1), *re.findall(r"\w+", m.group(2))]) + " (dbt vars)", text)


def leading_comments(sql: str) -> tuple[str, str]:
    """(Vietnamese, English): the `-- vi:` line and the other `--` lines at the top of a singular test's SQL."""
    english, vietnamese = [], []
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.startswith("{{ config(") or (not stripped and not english):
            continue
        if not stripped.startswith("--") or stripped.startswith("-- depends_on"):
            break
        if stripped.startswith(VI_MARK):
            vietnamese.append(stripped[len(VI_MARK):].strip())
        else:
            english.append(stripped[2:].strip())
    return " ".join(vietnamese), " ".join(english)


def describe_test(node: Mapping[str, Any]) -> tuple[str, str]:
    """(Vietnamese, English) for a dbt test node of the manifest."""
    meta = node.get("test_metadata") or {}
    name, kwargs = meta.get("name"), meta.get("kwargs") or {}
    column = kwargs.get("column_name") or node.get("column_name")
    columns = _plain(kwargs.get("columns", []))
    rebuilt_vi, rebuilt_en = (" (kiểm tra các tháng vừa ghi)", ", among the months this build wrote") \
        if kwargs.get("rebuilt_months_only") else ("", "")
    generic = {
        "unique": (f"Không có hai dòng trùng {column}", f"Fails when two rows share a {column}."),
        "not_null": (f"{column} không để trống", f"Fails when {column} is empty."),
        "not_null_columns": (f"Các cột {columns} không để trống", f"Fails when any of {columns} is empty."),
        "unique_combination": (f"Mỗi bộ ({columns}) chỉ có một dòng" + rebuilt_vi,
                               f"Fails when two rows share ({columns}): the table's grain{rebuilt_en}."),
        "unique_among_rebuilt": (f"Không có hai dòng trùng {column} (kiểm tra các dòng vừa ghi)",
                                 f"Fails when a {column} appears twice among the rows this build wrote."),
        "accepted_values": (f"{column} chỉ nhận các giá trị {_plain(kwargs.get('values', []))}",
                            f"Fails when {column} holds a value other than {_plain(kwargs.get('values', []))}."),
        "relationships": (f"Mỗi {column} đều có trong {_plain(kwargs.get('to'))}",
                          f"Fails when a {column} is not a {_plain(kwargs.get('field'))} of "
                          f"{_plain(kwargs.get('to'))}."),
    }
    vietnamese, english = generic.get(name) or leading_comments(node.get("raw_code") or "")
    if (node.get("description") or "").strip():
        english = node["description"].strip()
    return vietnamese or english, english or f"dbt test {node.get('name', '')}"


def project_manifest() -> dict:
    """The dbt project's manifest as last parsed (empty when it was never parsed)."""
    path = DBT_PROJECT_DIR / "target" / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {"nodes": {}}


def vietnamese_descriptions(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Check name -> what it verifies, in Vietnamese, for every dbt test and every Python check."""
    out = dict(PYTHON_CHECKS_VI)
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            out[node["name"]] = describe_test(node)[0]
    return out
