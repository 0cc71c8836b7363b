"""What personal data is (landing.md, kpis.md): which columns hold it, what an id looks like, how it is masked.

Ingestion masks and pseudonymises by these definitions (ingestion/pii.py); publication and its checks refuse a
personal-data column by them.
"""

from __future__ import annotations

from contracts.landed_tables import DOSSIER_COLUMNS
from contracts.rules import rules
from contracts.vocabulary import label_key

MASK = "***"
# An id in free text: a run of 9 or more digits (citizen ids have 12, tax codes 10 or 13; landing.md masks
# such runs in explanations too). Masked wherever landing text is kept: quarantined rows, reasons.
ID_RUN = r"\d{9,}"
# The contract's applicant columns: the name is dropped, the id pseudonymised, both masked in kept raw text
# (numbered copies too, as a second "Số giấy tờ chủ hồ sơ 2" or "(2)").
PERSONAL_FIELDS = ("applicant_name", "applicant_id")
PERSONAL_HEADERS = tuple(label_key(h) for h, (fld, _) in DOSSIER_COLUMNS.items() if fld in PERSONAL_FIELDS)
# Words in the header of an unknown column that say it holds a person (a name, an id, a contact, an address, a
# birth date).
PERSONAL_HEADER_WORDS = ("tên", "họ tên", "cán bộ", "người", "chủ hồ sơ", "cccd", "cmnd", "giấy tờ", "điện thoại",
                         "email", "địa chỉ", "nơi ở", "thường trú", "tạm trú", "quê quán", "nơi sinh", "ngày sinh",
                         "năm sinh", "sinh ngày", "address", "birth", "dob")
# Column names that would carry personal data; none may reach the marts or the published file (the rules' vars).
PERSONAL_DATA_COLUMNS = rules().personal_data_columns
