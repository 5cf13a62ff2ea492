"""Loader options, defined once (LoadOptions), and mapping files: checked values, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmo_maturity import (
    ConfigurationError,
    LoadOptions,
    MappingFileError,
    QuestionnaireError,
    load_questionnaire,
    load_responses,
    read_mapping_file,
)
from pmo_maturity.options import META_FIELDS

from .conftest import write_yaml


def test_defaults_and_names():
    options = LoadOptions()
    assert options.meta == {role: None for role in META_FIELDS}
    assert (options.layout, options.require_unit, options.exclude_flagged, options.na_codes) == (
        "auto", True, False, ())
    assert LoadOptions(delimiter="tab").delimiter == "\t" and LoadOptions(delimiter="\\t").delimiter == "\t"
    assert LoadOptions(encoding="UTF8").encoding == "utf-8"
    assert LoadOptions(unit_column="none").unit_column is False
    assert LoadOptions(na_codes=["6", 99]).na_codes == (6.0, 99.0)
    assert LoadOptions(values={"unit": {1: "Finance", 2.0: "IT"}}).values == {"unit": {"1": "Finance", "2": "IT"}}


@pytest.mark.parametrize(("values", "message"), [
    ({"delimiter": ";;"}, r"option delimiter \(--delimiter\): got ';;'; expected one character"),
    ({"delimiter": '"'}, r"not a quote or line break"),
    ({"encoding": "nope-9"}, r"option encoding \(--encoding\): got 'nope-9'; expected a text encoding"),
    ({"layout": "tall"}, r"option layout \(--layout\): got 'tall'; expected 'auto' or 'wide' or 'long'"),
    ({"unit_column": True}, r"option unit_column \(--by\): got True; expected a column header"),
    ({"na_codes": ["six"]}, r"option na_codes \(--na-code\): got 'six'; expected a number"),
    ({"sheet": 1.5}, r"option sheet \(--sheet\): got 1.5"),
    ({"mapping": {"Q1": 5}}, r"option mapping \(--map\)"),
    ({"values": {"team": {1: "A"}}}, r"unknown column with coded values 'team'"),
    ({"require_unit": "yes"}, r"option require_unit \(--require-unit\): got 'yes'; expected True or False"),
])
def test_bad_values_name_the_option_the_value_and_what_was_expected(values, message):
    with pytest.raises(ConfigurationError, match=message):
        LoadOptions(**values)


def test_unknown_names_are_refused_with_the_closest_one():
    with pytest.raises(ConfigurationError, match=r"load_options: unknown loader option 'role_colum' \(did you mean "
                                                 r"'role_column'\?\)"):
        LoadOptions.from_dict({"role_colum": "Role"})
    with pytest.raises(ConfigurationError, match=r"unknown loader option 'delimeter' \(did you mean 'delimiter'\?\)"):
        load_responses("any.csv", delimeter=";")
    with pytest.raises(ConfigurationError, match="a dict of loader options"):
        LoadOptions.from_dict(["role_column"])


def test_to_dict_round_trips_and_keeps_only_what_was_changed():
    options = LoadOptions(role_column="Position", na_codes=(6,), mapping={"Q1": "INS1"})
    assert options.to_dict(changed_only=True) == {"role_column": "Position", "na_codes": [6.0],
                                                  "mapping": {"Q1": "INS1"}}
    assert LoadOptions.from_dict(options.to_dict()) == options
    assert LoadOptions.coerce(options, role_column=None, sheet="Data") == options.replace(sheet="Data")


def test_a_mapping_file_fills_what_was_not_given(tmp_path):
    path = write_yaml(tmp_path / "m.yaml", """
        items: {Q5_1: INS1, Q5_2: INS2}
        unit: Q1
        role: false
        na_codes: [6]
        values: {unit: {1: Finance}}
        """)
    spec = read_mapping_file(path)
    merged = LoadOptions(unit_column="Dept", mapping={"Q5_2": "INS3"}, na_codes=(9,)).merged_with(spec)
    assert merged.unit_column == "Dept" and merged.role_column is False  # given directly: kept
    assert merged.mapping == {"Q5_1": "INS1", "Q5_2": "INS3"} and merged.na_codes == (9.0, 6.0)
    assert merged.values == {"unit": {"1": "Finance"}}


@pytest.mark.parametrize(("text", "message"), [
    ("unti: Dept\n", r"m\.yaml: invalid: unti: unknown key \(did you mean 'unit'\?\)"),
    ("items: [INS1]\n", r"items: expected a mapping"),
    ("na_codes: [six]\n", r"na_codes: expected numbers"),
    ("unit: [a, b]\n", r"unit: expected a column header"),
    ("unit: a\nunit: b\n", r"duplicate key 'unit'"),
    ("- just a list\n", r"expected a mapping of keys"),
])
def test_mapping_file_errors_name_the_file_and_the_key(tmp_path, text, message):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingFileError, match=message):
        read_mapping_file(path)


def test_mapping_file_not_found(tmp_path):
    with pytest.raises(MappingFileError, match="file not found"):
        load_responses(tmp_path / "x.csv", mapping_file=tmp_path / "none.yaml")


def test_questionnaire_na_codes_are_checked(tmp_path):
    text = Path(load_questionnaire().source).read_text(encoding="utf-8")
    ok = tmp_path / "ok.yaml"
    ok.write_text(text.replace("  na_labels:", "  na_codes: [6, 99]\n  na_labels:", 1), encoding="utf-8")
    assert load_questionnaire(ok).scale.na_codes == (6.0, 99.0)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("  na_labels:", "  na_codes: [3]\n  na_labels:", 1), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"scale.*na_codes \[3.0\] lie on the scale 1-5.*such as 6"):
        load_questionnaire(bad)
