"""Rules of landing.md per kind of file: parse every value, and give each bad row every reason it fails.

Input: one frame of many batches, columns named by contract field (text, trimmed, NFC), plus the batch
columns. Output: the rows to load (typed) and the rows to quarantine (with their reasons). Vectorised: no
per-row Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from contracts.vocabulary import (
    DOSSIER_COLUMNS,
    EARLIEST_TIMESTAMP,
    EXPLANATION_COLUMNS,
    INDICATORS,
    LATEST_AHEAD_OF_INGESTION,
    MAX_FEE_VND,
    ONLINE_SERVICE_LEVELS,
    TARGET_LEVELS,
    UNIT_LEVELS,
    UNIT_REPORT_COLUMNS,
    UNIT_REPORT_MEASURES,
)
from ingestion import parsing
from ingestion.pii import mask_ids

BATCH_COLUMNS = ("batch_id", "source_row", "file_path")
REASONS = "reasons"
CUT_SHORT = "cut_short"  # set by ingestion on a CSV's last row when the file has no final line end
CUT_SHORT_REASON = ("the last row has no line end: the file was cut short (copied while it was still being "
                    "written?); land the complete export again")


@dataclass
class Normalised:
    loaded: pl.DataFrame
    quarantined: pl.DataFrame  # BATCH_COLUMNS + reasons (list[str])
    warnings: pl.DataFrame  # batch_id, warning


def header_of(columns: dict[str, tuple[str, bool]]) -> dict[str, str]:
    return {fld: header for header, (fld, _) in columns.items()}


Rule = tuple[pl.Expr, pl.Expr]  # (the row fails, the reason text)


def _missing(fields: list[str], headers: dict[str, str]) -> list[Rule]:
    return [(pl.col(f).is_null(), pl.lit(f"missing required value: {headers[f]}")) for f in fields]


def _unparsed(field: str, parsed: pl.Expr, what: str, headers: dict[str, str], amount: bool = False) -> Rule:
    """The value is there but does not parse; the reason shows it, with any id in it masked (reasons are kept),
    except in an amount, whose digits are what the reader needs to see."""
    shown = pl.col(field) if amount else mask_ids(pl.col(field))
    return (pl.col(field).is_not_null() & parsed.is_null(), pl.format(f"{what}: {headers[field]} = '{{}}'", shown))


def _implausible(fields: tuple[str, ...], headers: dict[str, str], ingested_at: datetime) -> list[Rule]:
    """Timestamps before 2000-01-01 or later than a day after the moment of ingestion (landing.md)."""
    latest = ingested_at + LATEST_AHEAD_OF_INGESTION
    span = f"{EARLIEST_TIMESTAMP:%Y-%m-%d} to {latest:%Y-%m-%d %H:%M}"
    return [((pl.col(f"{f}__t") < EARLIEST_TIMESTAMP) | (pl.col(f"{f}__t") > latest),
             pl.format(f"{headers[f]} = '{{}}' is outside the plausible range ({span})", pl.col(f)))
            for f in fields]


def _split(frame: pl.DataFrame, rules: list[Rule], typed: dict[str, pl.Expr]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows failing no rule are loaded; the others get every reason they fail (texts built for those rows only).

    The frame is made one chunk first: polars 2.1 panics (`assertion failed: i < self.len()`) formatting a long
    string filtered out of a frame of several chunks (many files concatenated); see tests/test_ingestion.py.
    """
    if CUT_SHORT in frame.columns:
        rules = [*rules, (pl.col(CUT_SHORT), pl.lit(CUT_SHORT_REASON))]
    checked = frame.rechunk().with_columns(**typed)
    fails = checked.select([cond.fill_null(False).alias(f"__fail{i}") for i, (cond, _) in enumerate(rules)])
    bad = fails.select(pl.any_horizontal(pl.all())).to_series()
    loaded = checked.filter(~bad).drop(CUT_SHORT, strict=False)
    suspects = pl.concat([checked.filter(bad), fails.filter(bad)], how="horizontal")
    quarantined = suspects.select(
        *BATCH_COLUMNS,
        pl.concat_list([pl.when(pl.col(f"__fail{i}")).then(text) for i, (_, text) in enumerate(rules)])
        .list.drop_nulls().alias(REASONS))
    return loaded, quarantined


def _empty_warnings() -> pl.DataFrame:
    return pl.DataFrame(schema={"batch_id": pl.String, "warning": pl.String})


def dossiers(frame: pl.DataFrame, unit_codes: set[str], procedure_codes: set[str],
             ingested_at: datetime) -> Normalised:
    headers = header_of(DOSSIER_COLUMNS)
    ts_fields = ("received_at", "due_at", "finished_at", "updated_at")
    typed = {f"{f}__t": parsing.parse_timestamp(pl.col(f)) for f in ts_fields}
    typed |= {
        "status__t": parsing.parse_status(pl.col("status")),
        "channel__t": parsing.parse_channel(pl.col("channel")),
        "fee__t": parsing.parse_whole_vnd(pl.col("fee_amount")),
        "paid__t": parsing.parse_paid_online(pl.col("paid_online")),
        "digitised__t": parsing.parse_yes_no(pl.col("components_digitised")),
        "e_result__t": parsing.parse_yes_no(pl.col("e_result")),
    }
    required = [fld for fld, req in DOSSIER_COLUMNS.values() if req]
    received = pl.col("received_at__t")
    reasons = _missing(required, headers)
    reasons += [_unparsed(f, pl.col(f"{f}__t"), "timestamp does not parse", headers) for f in ts_fields]
    reasons += _implausible(ts_fields, headers, ingested_at)
    reasons += [
        _unparsed("fee_amount", pl.col("fee__t"), "number does not parse", headers, amount=True),
        _unparsed("status", pl.col("status__t"), "status is not a code 1-10 or its label", headers),
        _unparsed("channel", pl.col("channel__t"), "channel is not 1/2/3 or its label", headers),
        _unparsed("paid_online", pl.col("paid__t"), "not 0, 1 or 2", headers),
        _unparsed("components_digitised", pl.col("digitised__t"), "not a yes/no value", headers),
        _unparsed("e_result", pl.col("e_result__t"), "not a yes/no value", headers),
        (pl.col("finished_at__t") < received, pl.lit(f"{headers['finished_at']} is before {headers['received_at']}")),
        (pl.col("due_at__t") < received, pl.lit(f"{headers['due_at']} is before {headers['received_at']}")),
        (pl.col("fee__t") < 0, pl.format(f"{headers['fee_amount']} is negative: {{}}", pl.col("fee__t"))),
        (pl.col("fee__t") > MAX_FEE_VND,
         pl.format(f"{headers['fee_amount']} is above {MAX_FEE_VND:,} đồng: {{}}", pl.col("fee__t"))),
        (pl.col("unit_code").is_not_null() & ~pl.col("unit_code").is_in(list(unit_codes)),
         pl.format("unit code not in reference/units.csv: '{}'", pl.col("unit_code"))),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    loaded = loaded.select(
        "batch_id", "source_row", "file_path", "dossier_code", "procedure_code", "procedure_name", "unit_code",
        channel=pl.col("channel__t"), received_at=pl.col("received_at__t"), due_at=pl.col("due_at__t"),
        finished_at=pl.col("finished_at__t"), status=pl.col("status__t"),
        fee_amount=pl.col("fee__t").fill_null(0), paid_online=pl.col("paid__t"), e_receipt_no=pl.col("e_receipt_no"),
        components_digitised=pl.col("digitised__t"), e_result=pl.col("e_result__t"),
        applicant_id=pl.col("applicant_id"), updated_at=pl.col("updated_at__t"))
    unknown = (loaded.filter(~pl.col("procedure_code").is_in(list(procedure_codes)))
               .group_by("batch_id").agg(pl.len().alias("n"), pl.col("procedure_code").unique().sort().alias("codes"))
               .select("batch_id", warning=pl.format("{} rows with procedure codes not in reference/procedures.csv: {}",
                                                      "n", pl.col("codes").list.join(", "))))
    return Normalised(loaded, quarantined, unknown)


def explanations(frame: pl.DataFrame, unit_codes: set[str], procedure_codes: set[str],
                 ingested_at: datetime) -> Normalised:
    """Explanations of late dossiers: identity, a reason and a parsable, plausible date; the unit must be known.
    Every run of 9 or more digits in the reason (an id) is masked before it is kept."""
    headers = header_of(EXPLANATION_COLUMNS)
    typed = {"explained_at__t": parsing.parse_timestamp(pl.col("explained_at"))}
    required = [fld for fld, req in EXPLANATION_COLUMNS.values() if req]
    reasons = _missing(required, headers) + [
        _unparsed("explained_at", pl.col("explained_at__t"), "timestamp does not parse", headers),
        *_implausible(("explained_at",), headers, ingested_at),
        (pl.col("unit_code").is_not_null() & ~pl.col("unit_code").is_in(list(unit_codes)),
         pl.format("unit code not in reference/units.csv: '{}'", pl.col("unit_code"))),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    loaded = loaded.select("batch_id", "source_row", "file_path", "dossier_code", "unit_code",
                           reason=mask_ids(pl.col("reason")), explained_at=pl.col("explained_at__t"),
                           apology_letter_no=pl.col("apology_letter_no").str.strip_chars().replace("", None))
    return Normalised(loaded, quarantined, _empty_warnings())


def unit_reports(frame: pl.DataFrame, ingested_at: datetime) -> Normalised:
    """Unit reports: identity and dates must parse; measures are loaded as reported (rules judge them later)."""
    headers = header_of(UNIT_REPORT_COLUMNS)
    typed = {"period_month": parsing.parse_period(pl.col("period")),
             "submitted_at__t": parsing.parse_timestamp(pl.col("submitted_at"))}
    reasons = _missing(["unit_code", "period", "submitted_at"], headers) + [
        _unparsed("period", pl.col("period_month"), "period is not MM/yyyy", headers),
        _unparsed("submitted_at", pl.col("submitted_at__t"), "timestamp does not parse", headers),
        *_implausible(("submitted_at",), headers, ingested_at),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    loaded = loaded.select("batch_id", "source_row", "file_path", "unit_code", "period", "period_month",
                           *UNIT_REPORT_MEASURES, submitted_at=pl.col("submitted_at__t"))
    return Normalised(loaded, quarantined, _empty_warnings())


def _true_false(field: str) -> pl.Expr:
    return parsing.key_text(pl.col(field)).replace_strict({"true": True, "false": False, "1": True, "0": False},
                                                           default=None, return_dtype=pl.Boolean)


def _in_set(field: str, allowed: tuple[str, ...]) -> Rule:
    return (pl.col(field).is_not_null() & ~pl.col(field).is_in(list(allowed)),
            pl.format(f"{field} is not one of {', '.join(allowed)}: '{{}}'", pl.col(field)))


def reference_units(frame: pl.DataFrame, ingested_at: datetime) -> Normalised:
    headers = {f: f for f in ("unit_code", "unit_name", "level", "valid_from", "valid_to")}
    typed = {"valid_from__t": parsing.parse_date(pl.col("valid_from")),
             "valid_to__t": parsing.parse_date(pl.col("valid_to"))}
    reasons = _missing(["unit_code", "unit_name", "level", "valid_from"], headers) + [
        _in_set("level", UNIT_LEVELS),
        _unparsed("valid_from", pl.col("valid_from__t"), "date does not parse", headers),
        _unparsed("valid_to", pl.col("valid_to__t"), "date does not parse", headers),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    loaded = loaded.select("batch_id", "source_row", "file_path", "unit_code", "unit_name", "level", "parent_code",
                           valid_from=pl.col("valid_from__t"), valid_to=pl.col("valid_to__t"),
                           successor_code=pl.col("successor_code"))
    return Normalised(loaded, quarantined, _empty_warnings())


def reference_procedures(frame: pl.DataFrame, ingested_at: datetime) -> Normalised:
    headers = {f: f for f in ("procedure_code", "paper_result", "has_fee")}
    typed = {"paper__t": _true_false("paper_result"), "fee__t": _true_false("has_fee")}
    reasons = _missing(["procedure_code", "paper_result", "has_fee"], headers) + [
        _in_set("online_service_level", ONLINE_SERVICE_LEVELS),
        _unparsed("paper_result", pl.col("paper__t"), "not true/false", headers),
        _unparsed("has_fee", pl.col("fee__t"), "not true/false", headers),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    loaded = loaded.select("batch_id", "source_row", "file_path", "procedure_code", "procedure_name", "field",
                           "online_service_level", paper_result=pl.col("paper__t"), has_fee=pl.col("fee__t"))
    return Normalised(loaded, quarantined, _empty_warnings())


def reference_targets(frame: pl.DataFrame, ingested_at: datetime) -> Normalised:
    headers = {f: f for f in ("indicator", "level", "target", "valid_from", "valid_to")}
    typed = {"target__t": pl.col("target").cast(pl.Float64, strict=False),
             "valid_from__t": parsing.parse_date(pl.col("valid_from")),
             "valid_to__t": parsing.parse_date(pl.col("valid_to"))}
    reasons = _missing(["indicator", "level", "target", "valid_from"], headers) + [
        _in_set("indicator", INDICATORS), _in_set("level", TARGET_LEVELS),
        _unparsed("target", pl.col("target__t"), "number does not parse", headers),
        ((pl.col("target__t") < 0) | (pl.col("target__t") > 1), pl.lit("target is not between 0 and 1")),
        _unparsed("valid_from", pl.col("valid_from__t"), "date does not parse", headers),
        _unparsed("valid_to", pl.col("valid_to__t"), "date does not parse", headers),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    loaded = loaded.select("batch_id", "source_row", "file_path", "indicator", "level", target=pl.col("target__t"),
                           valid_from=pl.col("valid_from__t"), valid_to=pl.col("valid_to__t"),
                           programme_code=pl.col("programme_code").str.strip_chars().replace("", None))
    return Normalised(loaded, quarantined, _empty_warnings())


def reference_programmes(frame: pl.DataFrame, ingested_at: datetime) -> Normalised:
    headers = {f: f for f in ("programme_code", "effective_date", "baseline_months", "end_date")}
    months = pl.col("baseline_months").str.strip_chars()
    typed = {"effective__t": parsing.parse_date(pl.col("effective_date")),
             "end__t": parsing.parse_date(pl.col("end_date")),
             "months__t": months.cast(pl.Int32, strict=False)}
    reasons = _missing(["programme_code", "effective_date", "baseline_months"], headers) + [
        _unparsed("effective_date", pl.col("effective__t"), "date does not parse", headers),
        _unparsed("end_date", pl.col("end__t"), "date does not parse", headers),
        _unparsed("baseline_months", pl.col("months__t"), "not a whole number", headers),
        (pl.col("months__t") < 1, pl.format("baseline_months is not at least 1: '{}'", pl.col("baseline_months"))),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    loaded = loaded.select("batch_id", "source_row", "file_path", "programme_code", "programme_name",
                           effective_date=pl.col("effective__t"), baseline_months=pl.col("months__t"),
                           end_date=pl.col("end__t"))
    return Normalised(loaded, quarantined, _empty_warnings())
