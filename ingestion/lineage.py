"""The lineage rules of reference/units.csv (landing.md, "Lineage rules of units.csv"): a file that breaks one is
rejected whole, with an error naming the units, and the previous reference stays in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MAX_SHOWN = 10  # units named per rule in an error; the count says how many more


@dataclass(frozen=True)
class UnitValidity:
    unit_code: str
    valid_from: date
    valid_to: date | None
    successor_code: str | None


def lineage_errors(units: list[UnitValidity]) -> list[str]:
    """Every broken lineage rule, one message per rule naming the units (empty when the lineage is sound)."""
    by_code = {u.unit_code: u for u in units}
    no_end, unknown, gap = [], [], []
    for unit in units:
        if not unit.successor_code:
            continue
        if unit.valid_to is None:
            no_end.append(f"{unit.unit_code} (successor {unit.successor_code})")
            continue
        successor = by_code.get(unit.successor_code)
        if successor is None:
            unknown.append(f"{unit.unit_code} -> {unit.successor_code}")
            continue
        next_day = unit.valid_to + timedelta(days=1)
        if not (successor.valid_from <= next_day and (successor.valid_to is None or successor.valid_to >= next_day)):
            valid = f"{successor.valid_from}..{successor.valid_to or ''}"
            gap.append(f"{unit.unit_code} ends {unit.valid_to} but {successor.unit_code} is valid {valid}, "
                       f"not on {next_day}")
    errors = []
    if no_end:
        errors.append(_named("a successor_code without valid_to", no_end))
    if unknown:
        errors.append(_named("a successor_code that is not in the file", unknown))
    if gap:
        errors.append(_named("a successor not valid on the day after its predecessor ends", gap))
    cycles = successor_cycles(units)
    if cycles:
        errors.append(_named("successors that form a cycle", [" -> ".join([*c, c[0]]) for c in cycles]))
    return errors


def successor_cycles(units: list[UnitValidity]) -> list[list[str]]:
    """Each cycle of successor links once, starting from its smallest code."""
    successor = {u.unit_code: u.successor_code for u in units if u.successor_code}
    cycles, settled = [], set()
    for start in sorted(successor):
        path, position = [], {}
        code = start
        while code in successor and code not in settled and code not in position:
            position[code] = len(path)
            path.append(code)
            code = successor[code]
        if code in position:  # came back to a unit of this walk: the links from there on are a cycle
            cycle = path[position[code]:]
            first = cycle.index(min(cycle))
            cycles.append(cycle[first:] + cycle[:first])
        settled.update(path)
    return cycles


def current_units(units: list[UnitValidity]) -> dict[str, str]:
    """Each unit's current unit: its successor's successor ..., up to a unit without one (a sound lineage)."""
    successor = {u.unit_code: u.successor_code for u in units if u.successor_code}
    current = {}
    for unit in units:
        code, hops = unit.unit_code, 0
        while code in successor and hops <= len(units):
            code, hops = successor[code], hops + 1
        current[unit.unit_code] = code
    return current


def _named(rule: str, items: list[str]) -> str:
    shown = "; ".join(items[:MAX_SHOWN])
    more = f"; and {len(items) - MAX_SHOWN} more" if len(items) > MAX_SHOWN else ""
    return f"{len(items)} unit(s) with {rule}: {shown}{more}"
