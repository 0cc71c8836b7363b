"""The Dagster UI reads like the README (issue #24, section 5), and the data-quality page speaks Vietnamese
(section 3): every check says what makes it fail, dbt tests have readable names, asset groups are the layers,
descriptions are text (no raw SQL appended), every check has a Vietnamese line for the page."""

from __future__ import annotations

import re

from orchestration.check_descriptions import (
    PYTHON_CHECKS_VI,
    describe_test,
    leading_comments,
    project_manifest,
    vietnamese_descriptions,
)
from orchestration.definitions import defs
from orchestration.gate import BLOCKING_CHECKS

JINJA_LEFTOVERS = re.compile(r"\{\{|\}\}|var_|__ref_|_$")


def _graph():
    return defs.resolve_asset_graph()


def test_every_check_has_a_readable_name_and_says_what_makes_it_fail():
    graph = _graph()
    for check in graph.asset_check_keys:
        spec = graph.get_check_spec(check)
        key = f"{check.asset_key.to_user_string()}:{check.name}"
        assert not JINJA_LEFTOVERS.search(check.name), key
        assert spec.description and len(spec.description) > 20 and "{{" not in spec.description, key
        if key in BLOCKING_CHECKS and not check.name.startswith(("raw_", "no_held", "dossiers_loaded",
                                                                 "received_not")):
            assert spec.description.startswith(f"Blocks publication: {BLOCKING_CHECKS[key]}."), key


def test_every_check_has_a_vietnamese_line_for_the_data_quality_page():
    vietnamese = vietnamese_descriptions(project_manifest())
    graph = _graph()
    missing = [c.name for c in graph.asset_check_keys if not vietnamese.get(c.name)]
    assert missing == []
    assert set(PYTHON_CHECKS_VI) <= {c.name for c in graph.asset_check_keys}  # no line for a check that is gone


def test_asset_groups_are_the_layers_and_descriptions_are_text():
    graph = _graph()
    groups = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            groups.setdefault(node.group_name, []).append(key.to_user_string())
            assert "Raw SQL" not in (node.description or ""), key
            assert node.description and not re.search(r"<\w+>", node.description), key  # markdown hides <these>
    assert "marts/kpi_unit_month" in groups["marts"] and "staging/stg_tthc__dossier_snapshots" in groups["staging"]
    assert "published_marts" in groups["publication"] and "data_dictionary" in groups["publication"]


def test_generic_and_singular_tests_are_described_from_their_arguments_and_comments():
    relationships = {"test_metadata": {"name": "relationships", "kwargs": {
        "column_name": "unit_code", "to": "ref('dim_units')", "field": "unit_code"}}}
    assert describe_test(relationships) == ("Mỗi unit_code đều có trong dim_units",
                                            "Fails when a unit_code is not a unit_code of dim_units.")
    by_var = {"test_metadata": {"name": "accepted_values", "kwargs": {
        "column_name": "status", "values": "{{ var('statuses')['open'] }}"}}}
    assert describe_test(by_var)[1] == "Fails when status holds a value other than statuses.open (dbt vars)."
    sql = "{{ config(meta={}) }}\n-- vi: Phần không lớn hơn tổng\n-- A part never exceeds\n-- its whole.\nselect 1"
    assert leading_comments(sql) == ("Phần không lớn hơn tổng", "A part never exceeds its whole.")
    assert describe_test({"raw_code": sql, "description": "Given in the YAML."})[1] == "Given in the YAML."


def test_the_build_says_how_far_it_is_at_every_tenth():
    import json

    from orchestration.assets.warehouse import build_size, ensure_manifest, with_progress

    said = []
    assert list(with_progress(iter(range(25)), 25, said.append)) == list(range(25))
    assert said[0] == "dbt build: 3/25 models and tests done" and said[-1] == "dbt build: 25/25 models and tests done"
    assert len(said) == 10
    more = []
    list(with_progress(iter(range(30)), 25, more.append))  # more events than nodes: never past the total
    assert more[-1] == "dbt build: 25/25 models and tests done"
    assert build_size(json.loads(ensure_manifest().read_text())) > 100  # the project's models and tests
