"""The value parsers of the landing contract: examples and properties (hypothesis)."""

from __future__ import annotations

import unicodedata
from datetime import datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.landed_tables import DOSSIER_COLUMNS
from contracts.vocabulary import CHANNEL_LABELS, STATUS_LABELS
from ingestion import parsing


def one(expr_fn, value):
    return pl.select(expr_fn(pl.lit(value, pl.String))).item()


timestamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0))


@given(timestamps)
def test_every_contract_timestamp_form_parses_to_the_same_instant(moment):
    forms = {
        "%d/%m/%Y %H:%M:%S": moment,
        "%d/%m/%Y %H:%M": moment.replace(second=0),
        "%d/%m/%Y": moment.replace(hour=0, minute=0, second=0),
        "%Y-%m-%d %H:%M:%S": moment,
        "%Y-%m-%dT%H:%M:%S": moment,
    }
    for fmt, expected in forms.items():
        assert one(parsing.parse_timestamp, moment.strftime(fmt)) == expected, fmt


@pytest.mark.parametrize("text", ["31/02/2023 10:00:00", "2023-13-01 00:00:00", "hôm qua", "01/06/23", "2023/06/01",
                                  "01-06-2023 10:00:00", "1685577600"])
def test_other_timestamp_texts_do_not_parse(text):
    assert one(parsing.parse_timestamp, text) is None


@given(st.integers(min_value=0, max_value=10**12))
def test_fee_spellings_all_mean_the_same_amount(amount):
    dots = f"{amount:,}".replace(",", ".")
    assert one(parsing.parse_whole_vnd, str(amount)) == amount
    assert one(parsing.parse_whole_vnd, f"{amount:,}") == amount
    assert one(parsing.parse_whole_vnd, dots) == amount


@pytest.mark.parametrize("text", ["1,5", "1.5OO.OOO", "12.5", "1.50.000", "abc", "1 500 000", "--5"])
def test_fees_that_are_not_whole_amounts_do_not_parse(text):
    assert one(parsing.parse_whole_vnd, text) is None


def _spellings(label: str) -> st.SearchStrategy[str]:
    return st.sampled_from([label, label.upper(), label.lower(), unicodedata.normalize("NFD", label),
                            f"  {label}  ".replace(" ", "  ")])


@given(st.sampled_from(list(STATUS_LABELS.items())).flatmap(lambda kv: st.tuples(st.just(kv[0]), _spellings(kv[1]))))
def test_status_labels_match_whatever_their_case_spacing_or_unicode_form(pair):
    code, text = pair
    clean = unicodedata.normalize("NFC", text)  # the readers normalise whole files
    assert one(lambda e: parsing.parse_status(parsing.clean_text(e)), clean) == code
    assert one(parsing.parse_status, str(code)) == code


@given(st.sampled_from([(c, label) for c, labels in CHANNEL_LABELS.items() for label in labels])
       .flatmap(lambda kv: st.tuples(st.just(kv[0]), _spellings(kv[1]))))
def test_channel_labels_and_codes(pair):
    code, text = pair
    assert one(lambda e: parsing.parse_channel(parsing.clean_text(e)), unicodedata.normalize("NFC", text)) == code
    assert one(parsing.parse_channel, str(code)) == code


@pytest.mark.parametrize("text,expected", [("Có", True), ("có", True), ("CÓ", True), ("1", True), ("x", True),
                                           ("X", True), ("Không", False), ("0", False), (None, False),
                                           ("có lẽ", None), ("2", None)])
def test_yes_no_spellings(text, expected):
    assert one(parsing.parse_yes_no, text) == expected


@pytest.mark.parametrize("text,expected", [("0", 0), (None, 0), ("1", 1), ("2", 2), ("3", None), ("có", None)])
def test_paid_online_codes(text, expected):
    assert one(parsing.parse_paid_online, text) == expected


@settings(max_examples=50)
@given(st.permutations(list(DOSSIER_COLUMNS)), st.sampled_from(["upper", "nfd", "pad", "plain"]))
def test_headers_match_in_any_order_case_or_unicode_form(order, style):
    def spell(h):
        return {"upper": h.upper(), "nfd": unicodedata.normalize("NFD", h), "pad": f"  {h} ", "plain": h}[style]

    headers = [spell(h) for h in order] + ["Ghi chú"]
    mapping, missing, unknown = parsing.match_headers(headers, DOSSIER_COLUMNS)
    assert not missing and unknown == ["Ghi chú"]
    assert sorted(mapping.values()) == sorted(f for f, _ in DOSSIER_COLUMNS.values())


def test_a_missing_required_header_is_named():
    headers = [h for h in DOSSIER_COLUMNS if h != "Mã đơn vị"]
    _, missing, _ = parsing.match_headers(headers, DOSSIER_COLUMNS)
    assert missing == ["Mã đơn vị"]


@pytest.mark.parametrize("text,expected", [("01/2024", "2024-01-01"), ("1/2024", "2024-01-01"), ("12/2023", "2023-12-01"),
                                           ("13/2023", None), ("2023-12", None)])
def test_reporting_period(text, expected):
    value = one(parsing.parse_period, text)
    assert (value.isoformat() if value else None) == expected
