"""A plan that holds together: every rule of the plan, over the whole catalogue and the demo's plans."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pmo_maturity import load_catalogue, recommend
from pmo_maturity.questionnaire import displayed
from pmo_maturity.recommendations import EFFORT_DAYS, SCOPE_FIELDS, TEXT_FIELDS, WINDOWS, consolidate, scope_words

WINDOW_START = {30: 1, 60: 31, 90: 61}
ORGANISATION_WIDE = re.compile(r"business units?\b|across the organisation|organisation-wide", re.IGNORECASE)


@pytest.fixture(scope="module")
def catalogue(questionnaire):
    return load_catalogue(questionnaire=questionnaire)


@pytest.fixture(scope="module")
def plans(sample_scores):
    """The demo's plans: the organisation's and every reportable unit's."""
    units = {u: recommend(sample_scores, unit=u) for u in sample_scores.reportable_units}
    return {"Organisation": consolidate(recommend(sample_scores), units), **units}


def _every_action(catalogue):
    return [*catalogue.actions, *catalogue.triggers]


# --- the catalogue ------------------------------------------------------------------------------

def test_every_action_has_person_days_in_its_effort_band(catalogue):
    for a in _every_action(catalogue):
        assert a.days is not None, a.id
        low, high = EFFORT_DAYS[a.effort]
        assert low <= a.days[0] <= a.days[1] <= high, (a.id, a.effort, a.days)


def test_first_deadline_falls_within_the_window(catalogue):
    for a in _every_action(catalogue):
        deadlines = a.deadlines()
        assert deadlines, f"{a.id}: the success measure names no deadline"
        assert WINDOW_START[a.horizon] <= min(deadlines) <= a.horizon, (a.id, a.horizon, deadlines)
        assert max(deadlines) <= 90, (a.id, deadlines)


def test_texts_read_for_the_organisation_and_for_a_unit(catalogue):
    finding = {"higher": "PMO staff", "lower": "Business stakeholder", "dimension": "Vision and strategic alignment"}
    for a in _every_action(catalogue):
        for unit in (None, "Finance"):
            texts = a.worded({**scope_words(unit), **finding})
            assert all("{" not in t and "}" not in t for t in texts.values()), a.id
            if unit is not None:
                leftover = [t for t in texts.values() if ORGANISATION_WIDE.search(t)]
                assert not leftover, (a.id, leftover)


def test_every_dimension_and_level_has_a_first_window_action(catalogue, questionnaire):
    for d in questionnaire.dimensions:
        for level in (1, 2, 3, 4):
            horizons = {a.horizon for a in catalogue.for_dimension(d.id, level)}
            assert 30 in horizons, (d.id, level, horizons)


def test_archetype_actions_address_the_pattern_not_counted_people(catalogue):
    people = re.compile(r"\d+% of (people|respondents|members)|members of the archetype|people in the archetype",
                        re.IGNORECASE)
    for t in catalogue.triggers:
        if t.when.finding == "archetype":
            assert not any(people.search(getattr(t, f)) for f in TEXT_FIELDS), t.id


# --- the demo's plans ---------------------------------------------------------------------------

def test_plans_are_bounded_and_numbered_in_display_order(plans):
    for scope, plan in plans.items():
        a = plan.actions
        assert len(a) <= 8 and (a.groupby("window").size() <= 3).all(), scope
        assert (a[a["dimension"] != ""].groupby("dimension").size() <= 2).all(), scope
        assert list(a["rank"]) == list(range(1, len(a) + 1)), scope
        assert a["window"].is_monotonic_increasing, scope
        assert set(a["window"]) <= set(WINDOWS)
        assert set(a["id"]).isdisjoint(set(plan.considered["id"])), scope


def test_deadlines_fall_within_their_window(plans):
    for scope, plan in plans.items():
        for row in plan.actions.itertuples():
            assert WINDOW_START[row.window] <= row.deadline <= row.window, (scope, row.id, row.window, row.deadline)


def test_unit_plans_are_worded_for_the_unit(plans):
    for scope, plan in plans.items():
        if scope == "Organisation":
            continue
        for column in TEXT_FIELDS:
            leftover = plan.actions[plan.actions[column].str.contains(ORGANISATION_WIDE)]
            assert leftover.empty, (scope, column, list(leftover["id"]))


def test_gap_actions_name_the_roles_of_their_finding(plans, sample_scores):
    gaps = sample_scores.gaps
    seen = 0
    for scope, plan in plans.items():
        for row in plan.actions[plan.actions["source"] == "perception gap"].itertuples():
            flagged = gaps[(gaps["scope"] == scope) & (gaps["dimension"] == row.dimension) & gaps["flagged"]]
            assert len(flagged), (scope, row.id)  # only flagged gaps trigger actions
            top = flagged.sort_values("difference", ascending=False).iloc[0]
            assert top["higher"] in row.why and top["lower"] in row.why, row.why
            seen += 1
    assert seen >= 1


def test_status_follows_the_interval(plans, questionnaire):
    for scope, plan in plans.items():
        for t in plan.targets.itertuples():
            low, high = displayed([t.ci_low, t.ci_high])
            expected = ("reached" if low >= t.target_score else "borderline" if high >= t.target_score
                        else "not reached")
            assert t.status == expected and t.at_target == (expected == "reached"), (scope, t.dimension)


def test_weakest_dimension_is_addressed_first(plans):
    for scope, plan in plans.items():
        below = plan.targets[plan.targets["status"].isin(["not reached", "borderline"])]
        if below.empty:
            continue
        weakest = below.sort_values("score").iloc[0]["dimension"]
        first = plan.actions[plan.actions["window"] == 30]
        own = first.index[(first["dimension"] == weakest) & first["source"].isin(["level", "consolidate"])]
        assert len(own), (scope, weakest)
        before = first.loc[: own[0] - 1] if own[0] > first.index[0] else first.iloc[:0]
        # Only a flagged finding's action of higher priority may come before it.
        assert (~before["source"].isin(["level", "consolidate", "next level"])).all(), scope
        assert (before["priority"] > first.loc[own[0], "priority"]).all(), scope


def test_dimensions_at_target_get_a_step_to_the_next_level(plans):
    for scope, plan in plans.items():
        reached = set(plan.targets.loc[plan.targets["status"] == "reached", "dimension"])
        steps = plan.actions[plan.actions["source"] == "next level"]
        considered = plan.considered[plan.considered["source"] == "next level"]
        assert set(steps["dimension"]) <= reached and (steps["window"] == 90).all(), scope
        assert reached <= set(steps["dimension"]) | set(considered["dimension"]), scope


def test_a_unit_at_target_gets_a_path_to_the_next_level(plans):
    at_target = [s for s, p in plans.items() if p.targets["status"].eq("reached").all()]
    assert at_target  # Sales & Marketing in the demo
    for scope in at_target:
        assert len(plans[scope].actions) >= 3 and (plans[scope].actions["source"] == "next level").all()


def test_organisation_plan_consolidates_unit_actions(plans):
    org = plans["Organisation"]
    units = {s: p for s, p in plans.items() if s != "Organisation"}
    for row in org.actions.itertuples():
        expected = [u for u, p in units.items() if row.id in set(p.actions["id"])]
        assert row.units == ", ".join(expected)
    shared = org.considered[org.considered["units"].fillna("") != ""]
    for row in shared.itertuples():
        assert len(row.units.split(", ")) >= 2 and row.id not in set(org.actions["id"])
    # Owner load: every distinct action of every plan, per window, counted once.
    load = org.owner_load.set_index("owner")
    every = {(a.id, a.window, a.owner) for p in plans.values() for a in p.actions.itertuples()}
    for days in WINDOWS:
        assert load[f"by day {days}"].sum() == len({(i, w) for i, w, _ in every if w == days})


def test_effort_and_cost(sample_scores):
    plain = recommend(sample_scores, unit="Finance")
    priced = recommend(sample_scores, unit="Finance", day_rate=800, currency="EUR")
    assert plain.actions["cost_low"].isna().all() and plain.totals()["cost_low"].isna().all()
    assert (priced.actions["cost_low"] == priced.actions["days_low"] * 800).all()
    assert (priced.actions["cost_high"] == priced.actions["days_high"] * 800).all()
    totals = priced.totals().set_index("window")
    for days in WINDOWS:
        part = priced.actions[priced.actions["window"] == days]
        assert totals.loc[days, "days_high"] == part["days_high"].sum()
        assert totals.loc[days, "cost_high"] == pytest.approx(part["days_high"].sum() * 800)
    with pytest.raises(ValueError, match="day_rate"):
        recommend(sample_scores, day_rate=0)


def test_borderline_dimensions_get_consolidating_actions(plans):
    for plan in plans.values():
        consolidating = plan.actions[plan.actions["source"] == "consolidate"]
        borderline = set(plan.targets.loc[plan.targets["status"] == "borderline", "dimension"])
        assert set(consolidating["dimension"]) <= borderline
        assert consolidating["reason"].str.startswith("Consolidate").all()


def test_every_reached_has_its_lower_bound_at_the_cut_off(plans):
    for plan in plans.values():
        reached = plan.targets[plan.targets["status"] == "reached"]
        assert (displayed(reached["ci_low"].to_numpy()) >= reached["target_score"].to_numpy()).all()
        assert np.isfinite(reached["ci_low"]).all()


def test_scope_fields_are_known(catalogue):
    assert set(SCOPE_FIELDS) == {"scope", "units", "each_unit"}
