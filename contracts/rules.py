"""The rules of docs/contracts/kpis.md as data: the vars of dbt_project/dbt_project.yml, defined there once.

dbt's macros (dbt_project/macros/rules.sql) read the vars; Python (the generator's ground truth, the suites, the
tests) reads the same file here, so a rule changed there changes everywhere, and nowhere else holds a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml

DBT_PROJECT_YML = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"


@dataclass(frozen=True)
class IndexMetric:
    """A metric of the 766 index estimate (kpis.md, "Service index estimate")."""

    name: str
    group: str
    max_points: float
    ratio: tuple[str, str]  # (numerator, denominator) measures
    full_at: float | None  # the ratio that scores full points (points = max × min(1, ratio / full_at))
    fails: dict[str, str]  # what a dossier counted against it failed -> the Vietnamese reason

    def points(self, numerator: float, denominator: float) -> float | None:
        """The metric's points for a ratio numerator / denominator; None when the denominator is 0."""
        if not denominator:
            return None
        ratio = numerator / denominator
        return self.max_points * (min(1.0, ratio / self.full_at) if self.full_at else ratio)


@dataclass(frozen=True)
class Rules:
    directive_effective_date: date
    baseline_months: int
    statuses: dict[str, tuple[int, ...]]  # not_received / resolved / open -> status codes
    online_channel: int
    paid_online_codes: tuple[int, ...]
    measures: dict[str, str]  # measure -> family (reception / resolution), in contract order
    rates: dict[str, tuple[str, str]]  # rate -> (numerator, denominator); the rates are the indicators, in order
    indicator_labels: dict[str, str]  # rate -> its Vietnamese name, in the rates' order
    part_whole: tuple[tuple[str, str], ...]  # (part, whole): a part never exceeds its whole
    report_measures: dict[str, str]  # unit-report measure -> its header
    mismatch_absolute: float
    mismatch_relative: float
    personal_data_columns: str  # a regular expression over column names
    default_programme: str  # the programme code of Directive 10 (scored when programmes.csv is absent)
    unexplained_late_days: int  # a late dossier unexplained after this many days is warned about
    received_drop_share: float  # a complete month's received falling by more than this share stops publication
    received_drop_min_unit: int  # ... for a unit that had at least this many (the province always)
    min_dossiers_to_judge: int  # documents judge a unit's window value only above this denominator
    index766: dict[str, IndexMetric]  # the 766 estimate's metrics, in contract order

    @property
    def report_part_whole(self) -> tuple[tuple[str, str], ...]:
        """The pairs of the part_exceeds_whole rule: the contract's pairs between report measures."""
        return tuple((p, w) for p, w in self.part_whole if p in self.report_measures and w in self.report_measures)

    def mismatch_tolerance(self, system_value: float) -> float:
        return max(self.mismatch_absolute, self.mismatch_relative * system_value)


def _indicator_labels(variables: dict) -> dict[str, str]:
    labels = dict(variables["indicator_labels"])
    if set(labels) != set(variables["rates"]):
        raise ValueError(f"dbt_project.yml: indicator_labels must name exactly the rates {list(variables['rates'])}, "
                         f"not {list(labels)}")
    return {rate: str(labels[rate]) for rate in variables["rates"]}


def parse(variables: dict) -> Rules:
    tolerance = variables["report_mismatch_tolerance"]
    return Rules(
        directive_effective_date=date.fromisoformat(str(variables["directive_effective_date"])),
        baseline_months=int(variables["baseline_months"]),
        statuses={name: tuple(codes) for name, codes in variables["statuses"].items()},
        online_channel=int(variables["online_channel"]),
        paid_online_codes=tuple(variables["paid_online_codes"]),
        measures={name: spec["family"] for name, spec in variables["measures"].items()},
        rates={name: (pair[0], pair[1]) for name, pair in variables["rates"].items()},
        indicator_labels=_indicator_labels(variables),
        part_whole=tuple((p, w) for p, w in variables["part_whole"]),
        report_measures=dict(variables["report_measures"]),
        mismatch_absolute=float(tolerance["absolute"]),
        mismatch_relative=float(tolerance["relative"]),
        personal_data_columns=str(variables["personal_data_columns"]),
        default_programme=str(variables["default_programme"]["code"]),
        unexplained_late_days=int(variables["unexplained_late_days"]),
        received_drop_share=float(variables["received_drop"]["share"]),
        received_drop_min_unit=int(variables["received_drop"]["min_unit_received"]),
        min_dossiers_to_judge=int(variables["min_dossiers_to_judge"]),
        index766={name: IndexMetric(name, str(spec["group"]), float(spec["max_points"]),
                                    (spec["ratio"][0], spec["ratio"][1]),
                                    float(spec["full_at"]) if spec.get("full_at") is not None else None,
                                    dict(spec["fails"]))
                  for name, spec in variables["index766"].items()},
    )


@cache
def rules() -> Rules:
    return parse(yaml.safe_load(DBT_PROJECT_YML.read_text(encoding="utf-8"))["vars"])
