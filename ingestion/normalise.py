"""Rules of landing.md per kind of file: parse every value, and give each bad row every reason it fails.

Input: one frame of many batches, columns named by contract field (text, trimmed, NFC), plus the batch
columns. Output: the rows to load (typed) and the rows to quarantine (with their reasons). Vectorised: no
per-row Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from contracts.landed_tables import (
    DOSSIER_SNAPSHOTS,
    EXPLANATIONS,
    REFERENCE_PROCEDURES,
    REFERENCE_PROGRAMMES,
    REFERENCE_TARGETS,
    REFERENCE_UNITS,
    UNIT_REPORTS,
    RawTable,
)
from contracts.vocabulary import EARLIEST_TIMESTAMP, LATEST_AHEAD_OF_INGESTION
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


def header_of(table: RawTable) -> dict[str, str]:
    """Landed field -> its header, as the reasons name it."""
    return {c.field: c.header for c in table.landed}


def _loaded(loaded: pl.DataFrame, table: RawTable, values: dict[str, pl.Expr] | None = None) -> pl.DataFrame:
    """The rows to load, as the raw table stores them (contracts/landed_tables.py): the batch columns, then each
    stored field: its value in `values`, else its parsed value (`<field>__t`) where there is one, else its text."""
    values = values or {}
    parsed = set(loaded.columns)
    return loaded.select(*BATCH_COLUMNS, *[
        values.get(f, pl.col(f"{f}__t") if f"{f}__t" in parsed else pl.col(f)).alias(f) for f in table.loaded_fields])


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
    # lazily: the parsers' shared sub-expressions (a timestamp's shape and layout) are computed once (30% faster)
    checked = frame.rechunk().lazy().with_columns(**typed).collect()
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
    headers = header_of(DOSSIER_SNAPSHOTS)
    fee = DOSSIER_SNAPSHOTS.column("fee_amount")
    ts_fields = ("received_at", "due_at", "finished_at", "updated_at")
    typed = {f"{f}__t": parsing.parse_timestamp(pl.col(f)) for f in ts_fields}
    typed |= {
        "status__t": parsing.parse_status(pl.col("status")),
        "channel__t": parsing.parse_channel(pl.col("channel")),
        "fee_amount__t": parsing.parse_whole_vnd(pl.col("fee_amount")),
        "paid_online__t": parsing.parse_paid_online(pl.col("paid_online")),
        "components_digitised__t": parsing.parse_yes_no(pl.col("components_digitised")),
        "e_result__t": parsing.parse_yes_no(pl.col("e_result")),
    }
    received = pl.col("received_at__t")
    reasons = _missing(DOSSIER_SNAPSHOTS.required_fields, headers)
    reasons += [_unparsed(f, pl.col(f"{f}__t"), "timestamp does not parse", headers) for f in ts_fields]
    reasons += _implausible(ts_fields, headers, ingested_at)
    reasons += [
        _unparsed("fee_amount", pl.col("fee_amount__t"), "number does not parse", headers, amount=True),
        _unparsed("status", pl.col("status__t"), "status is not a code 1-10 or its label", headers),
        _unparsed("channel", pl.col("channel__t"), "channel is not 1/2/3 or its label", headers),
        _unparsed("paid_online", pl.col("paid_online__t"), "not 0, 1 or 2", headers),
        _unparsed("components_digitised", pl.col("components_digitised__t"), "not a yes/no value", headers),
        _unparsed("e_result", pl.col("e_result__t"), "not a yes/no value", headers),
        (pl.col("finished_at__t") < received, pl.lit(f"{headers['finished_at']} is before {headers['received_at']}")),
        (pl.col("due_at__t") < received, pl.lit(f"{headers['due_at']} is before {headers['received_at']}")),
        (pl.col("fee_amount__t") < fee.minimum,
         pl.format(f"{headers['fee_amount']} is negative: {{}}", pl.col("fee_amount__t"))),
        (pl.col("fee_amount__t") > fee.maximum,
         pl.format(f"{headers['fee_amount']} is above {fee.maximum:,} đồng: {{}}", pl.col("fee_amount__t"))),
        (pl.col("unit_code").is_not_null() & ~pl.col("unit_code").is_in(list(unit_codes)),
         pl.format("unit code not in reference/units.csv: '{}'", pl.col("unit_code"))),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    loaded = _loaded(loaded, DOSSIER_SNAPSHOTS, {"fee_amount": pl.col("fee_amount__t").fill_null(0)})
    unknown = (loaded.filter(~pl.col("procedure_code").is_in(list(procedure_codes)))
               .group_by("batch_id").agg(pl.len().alias("n"), pl.col("procedure_code").unique().sort().alias("codes"))
               .select("batch_id", warning=pl.format("{} rows with procedure codes not in reference/procedures.csv: {}",
                                                      "n", pl.col("codes").list.join(", "))))
    return Normalised(loaded, quarantined, unknown)


def explanations(frame: pl.DataFrame, unit_codes: set[str], procedure_codes: set[str],
                 ingested_at: datetime) -> Normalised:
    """Explanations of late dossiers: identity, a reason and a parsable, plausible date; the unit must be known.
    Every run of 9 or more digits in the reason (an id) is masked before it is kept."""
    headers = header_of(EXPLANATIONS)
    typed = {"explained_at__t": parsing.parse_timestamp(pl.col("explained_at"))}
    reasons = _missing(EXPLANATIONS.required_fields, headers) + [
        _unparsed("explained_at", pl.col("explained_at__t"), "timestamp does not parse", headers),
        *_implausible(("explained_at",), headers, ingested_at),
        (pl.col("unit_code").is_not_null() & ~pl.col("unit_code").is_in(list(unit_codes)),
         pl.format("unit code not in reference/units.csv: '{}'", pl.col("unit_code"))),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    loaded = _loaded(loaded, EXPLANATIONS, {
        "reason": mask_ids(pl.col("reason")),
        "apology_letter_no": pl.col("apology_letter_no").str.strip_chars().replace("", None)})
    return Normalised(loaded, quarantined, _empty_warnings())


def unit_reports(frame: pl.DataFrame, ingested_at: datetime) -> Normalised:
    """Unit reports: identity and dates must parse; measures are loaded as reported (rules judge them later)."""
    headers = header_of(UNIT_REPORTS)
    typed = {"period_month": parsing.parse_period(pl.col("period")),
             "submitted_at__t": parsing.parse_timestamp(pl.col("submitted_at"))}
    reasons = _missing(UNIT_REPORTS.required_fields, headers) + [
        _unparsed("period", pl.col("period_month"), "period is not MM/yyyy", headers),
        _unparsed("submitted_at", pl.col("submitted_at__t"), "timestamp does not parse", headers),
        *_implausible(("submitted_at",), headers, ingested_at),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    loaded = _loaded(loaded, UNIT_REPORTS)
    return Normalised(loaded, quarantined, _empty_warnings())


def _true_false(field: str) -> pl.Expr:
    return parsing.key_text(pl.col(field)).replace_strict({"true": True, "false": False, "1": True, "0": False},
                                                           default=None, return_dtype=pl.Boolean)


def _in_set(field: str, allowed: tuple[str, ...]) -> Rule:
    return (pl.col(field).is_not_null() & ~pl.col(field).is_in(list(allowed)),
            pl.format(f"{field} is not one of {', '.join(allowed)}: '{{}}'", pl.col(field)))


def _code_rules(table: RawTable) -> list[Rule]:
    """A reference value outside its column's code set (contracts/landed_tables.py)."""
    return [_in_set(c.field, tuple(c.codes)) for c in table.landed if c.codes]


def reference_units(frame: pl.DataFrame, ingested_at: datetime) -> Normalised:
    headers = header_of(REFERENCE_UNITS)
    typed = {"valid_from__t": parsing.parse_date(pl.col("valid_from")),
             "valid_to__t": parsing.parse_date(pl.col("valid_to"))}
    reasons = _missing(REFERENCE_UNITS.required_fields, headers) + [
        *_code_rules(REFERENCE_UNITS),
        _unparsed("valid_from", pl.col("valid_from__t"), "date does not parse", headers),
        _unparsed("valid_to", pl.col("valid_to__t"), "date does not parse", headers),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    return Normalised(_loaded(loaded, REFERENCE_UNITS), quarantined, _empty_warnings())


def reference_procedures(frame: pl.DataFrame, ingested_at: datetime) -> Normalised:
    headers = header_of(REFERENCE_PROCEDURES)
    typed = {"paper_result__t": _true_false("paper_result"), "has_fee__t": _true_false("has_fee")}
    reasons = _missing(REFERENCE_PROCEDURES.required_fields, headers) + [
        *_code_rules(REFERENCE_PROCEDURES),
        _unparsed("paper_result", pl.col("paper_result__t"), "not true/false", headers),
        _unparsed("has_fee", pl.col("has_fee__t"), "not true/false", headers),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    return Normalised(_loaded(loaded, REFERENCE_PROCEDURES), quarantined, _empty_warnings())


def reference_targets(frame: pl.DataFrame, ingested_at: datetime) -> Normalised:
    headers = header_of(REFERENCE_TARGETS)
    target = REFERENCE_TARGETS.column("target")
    typed = {"target__t": pl.col("target").cast(pl.Float64, strict=False),
             "valid_from__t": parsing.parse_date(pl.col("valid_from")),
             "valid_to__t": parsing.parse_date(pl.col("valid_to"))}
    reasons = _missing(REFERENCE_TARGETS.required_fields, headers) + [
        *_code_rules(REFERENCE_TARGETS),
        _unparsed("target", pl.col("target__t"), "number does not parse", headers),
        ((pl.col("target__t") < target.minimum) | (pl.col("target__t") > target.maximum),
         pl.lit(f"target is not between {target.minimum:g} and {target.maximum:g}")),
        _unparsed("valid_from", pl.col("valid_from__t"), "date does not parse", headers),
        _unparsed("valid_to", pl.col("valid_to__t"), "date does not parse", headers),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    loaded = _loaded(loaded, REFERENCE_TARGETS,
                     {"programme_code": pl.col("programme_code").str.strip_chars().replace("", None)})
    return Normalised(loaded, quarantined, _empty_warnings())


def reference_programmes(frame: pl.DataFrame, ingested_at: datetime) -> Normalised:
    headers = header_of(REFERENCE_PROGRAMMES)
    least = REFERENCE_PROGRAMMES.column("baseline_months").minimum
    months = pl.col("baseline_months").str.strip_chars()
    typed = {"effective_date__t": parsing.parse_date(pl.col("effective_date")),
             "end_date__t": parsing.parse_date(pl.col("end_date")),
             "baseline_months__t": months.cast(pl.Int32, strict=False)}
    reasons = _missing(REFERENCE_PROGRAMMES.required_fields, headers) + [
        _unparsed("effective_date", pl.col("effective_date__t"), "date does not parse", headers),
        _unparsed("end_date", pl.col("end_date__t"), "date does not parse", headers),
        _unparsed("baseline_months", pl.col("baseline_months__t"), "not a whole number", headers),
        (pl.col("baseline_months__t") < least,
         pl.format(f"baseline_months is not at least {least:g}: '{{}}'", pl.col("baseline_months"))),
    ]
    loaded, quarantined = _split(frame, reasons, typed)
    return Normalised(_loaded(loaded, REFERENCE_PROGRAMMES), quarantined, _empty_warnings())
