"""One definition of the report settings: the notebooks' cells, the command line and the runners."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import nbformat
import pytest

from pmo_maturity import ConfigurationError, ReportSettings, UnknownNameError
from pmo_maturity.execution import notebook_path
from pmo_maturity.settings import parse_headcount, parse_target


def _parameters_cell(name: str) -> dict:
    nb = nbformat.read(str(notebook_path(name)), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    tree = ast.parse(cell.source)
    return {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)}


@pytest.mark.parametrize("name", ["assessment", "portfolio"])
def test_the_parameters_cell_is_the_settings_of_its_notebook(name):
    """Same names, same defaults: a setting is added in ReportSettings and in this cell, nowhere else."""
    cell = _parameters_cell(name)
    assert list(cell) == list(ReportSettings.spec(name))  # same order too, so the cell reads like the class
    defaults = ReportSettings().for_notebook(name)
    assert cell == defaults
    ReportSettings.from_parameters(cell, name)


def test_every_setting_says_where_it_goes():
    for f in fields(ReportSettings):
        assert f.metadata["help"] and set(f.metadata["notebooks"]) <= {"assessment", "portfolio"}, f.name
    assert [f.name for f in ReportSettings.command_line()] == ["target", "min_group_size", "headcount", "day_rate",
                                                               "currency", "organisation"]


@pytest.mark.parametrize(("values", "message"), [
    ({"untis": "Finance"}, "assessment.ipynb: unknown parameter 'untis' (did you mean 'unit'?)"),
    ({"min_group_size": "abc"}, "assessment.ipynb: parameter 'min_group_size' must be int; got str 'abc'"),
    ({"target": True}, "parameter 'target' must be int or dict; got bool True"),
    ({"min_group_size": 2}, "min_group_size must be at least 3; got 2"),
    ({"day_rate": 0}, "day_rate must be a positive amount; got 0"),
    ({"target": {"vision": "high"}}, "target level of 'vision' must be a whole number; got 'high'"),
    ({"load_options": {"role_colum": "Role"}}, "unknown loader option 'role_colum' (did you mean 'role_column'?)"),
])
def test_bad_parameters_are_one_clear_error(values, message):
    with pytest.raises(ConfigurationError) as caught:
        ReportSettings.from_parameters(values, "assessment")
    assert message in str(caught.value)


def test_a_unit_parameter_is_refused_by_the_portfolio():
    with pytest.raises(UnknownNameError, match="portfolio.ipynb: unknown parameter 'unit'"):
        ReportSettings.from_parameters({"unit": "Finance"}, "portfolio")


def test_the_injected_cell_is_checked_in_the_notebook():
    namespace = {"In": ["x = 1", '# Parameters\nunit = "Finance"\nuntis = "Sales"\n'], "unit": "Finance",
                 "untis": "Sales"}
    with pytest.raises(UnknownNameError, match="did you mean 'unit'"):
        ReportSettings.from_notebook(namespace, "assessment")
    namespace = {"In": ['# Parameters\nunit = "Finance"\n'], "unit": "Finance", "pd": object()}
    assert ReportSettings.from_notebook(namespace, "assessment").unit == "Finance"


def test_settings_are_frozen_and_replaced_with_checks():
    s = ReportSettings(target={"vision": 4}, load_options={"role_column": "Position", "layout": "auto"})
    assert s.load_options == {"role_column": "Position"}  # only what differs from the loader's defaults
    with pytest.raises(AttributeError):
        s.unit = "Finance"  # type: ignore[misc]
    assert s.replace(unit="Finance").unit == "Finance" and s.unit is None
    with pytest.raises(UnknownNameError, match="did you mean 'organisation'"):
        s.replace(organization="Acme")
    assert ReportSettings.coerce({"unit": "Finance"}, organisation="Acme") == ReportSettings(unit="Finance",
                                                                                              organisation="Acme")


def test_for_notebook_gives_each_notebook_its_own_parameters():
    s = ReportSettings(unit="Finance", previous="old.json", day_rate=750, currency="EUR", organisation="Acme")
    assessment, portfolio = s.for_notebook("assessment"), s.for_notebook("portfolio")
    assert assessment["unit"] == "Finance" and assessment["day_rate"] == 750
    assert not {"unit", "previous", "day_rate", "currency"} & set(portfolio)
    assert portfolio["organisation"] == "Acme"
    assert s.for_notebook("assessment", changed_only=True) == {"unit": "Finance", "previous": "old.json",
                                                                "day_rate": 750, "currency": "EUR",
                                                                "organisation": "Acme"}


def test_resolved_paths_are_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = ReportSettings(responses="export.csv", headcount="heads.csv", load_options={"mapping_file": "m.yaml"},
                       previous="old.json").resolved()
    assert s.responses == str(tmp_path / "export.csv") and s.headcount == str(tmp_path / "heads.csv")
    assert s.previous == str(tmp_path / "old.json") and s.load_options["mapping_file"] == str(tmp_path / "m.yaml")
    assert ReportSettings(headcount="250").resolved().headcount == "250"


def test_command_line_values_are_parsed():
    assert parse_target(("3", "vision=4")) == {"*": 3, "vision": 4}
    with pytest.raises(ConfigurationError, match="--target 'high'"):
        parse_target(("high",))
    assert parse_headcount("300") == 300 and Path(parse_headcount("h.csv")).is_absolute()
