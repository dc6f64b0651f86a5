# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preflight's backend: argument-spec checks per option, the rules, and merged messages."""

from __future__ import annotations

from ansible_collections.waent.onprem.plugins.plugin_utils import _preflight as pf
from ansible_collections.waent.onprem.plugins.plugin_utils import _preflight_rules as pf_rules

NETS = {"type": "list", "elements": "str", "default": []}
SECRET = {"type": "str", "no_log": True}


def texts(problems):
    return [p.text() for p in problems]


def test_string_where_a_list_is_expected_is_one_problem():
    problems = pf.option_problems("web1", "wa", {"wa_admin_networks": NETS}, {"wa_admin_networks": "10.0.0.0/24"})
    assert texts(problems) == [
        "wa_admin_networks (host web1): is the string '10.0.0.0/24', not a list: write it as a YAML list, [10.0.0.0/24]"
    ]


def test_a_string_of_choices_is_a_list_as_extra_vars_give_it():
    rotate = {"type": "list", "elements": "str", "choices": ["wa_secret", "wa_db_password", "all"]}
    assert pf.option_problems("h", "pki", {"pki_rotate": rotate}, {"pki_rotate": "all"}) == []
    assert pf.option_problems("h", "pki", {"pki_rotate": rotate}, {"pki_rotate": "wa_secret,wa_db_password"}) == []
    problems = texts(pf.option_problems("h", "pki", {"pki_rotate": rotate}, {"pki_rotate": "wa_secret,jwt"}))
    assert len(problems) == 1 and problems[0].startswith("pki_rotate (host h): ") and "jwt" in problems[0]


def test_valid_values_have_no_problem():
    options = {"wa_admin_networks": NETS, "flag": {"type": "bool"}, "count": {"type": "int"}}
    assert (
        pf.option_problems("h", "wa", options, {"wa_admin_networks": ["10.0.0.0/8"], "flag": "yes", "count": "3"}) == []
    )


def test_required_is_reported_unless_provided_later():
    options = {
        "database_user_password": {"type": "str", "required": True, "no_log": True, "description": "The password."}
    }
    assert [p.variable for p in pf.option_problems("db1", "database", options, {})] == ["database_user_password"]
    assert pf.option_problems("db1", "database", options, {}, provided=["database_user_password"]) == []


def test_secret_values_are_never_shown():
    options = {"pki_db_password": {"type": "int", "no_log": True}}
    problems = pf.option_problems("h", "pki", options, {"pki_db_password": "hunter2-secret"})
    assert problems and all("hunter2" not in p.message for p in problems)
    assert pf.shown("db_client_password", "abc") == "(value hidden)"
    assert pf.shown("timesync_max_offset", -1) == "-1"


def test_choices_name_the_allowed_values():
    options = {"wa_db_engine": {"type": "str", "choices": ["MYSQL", "PGSQL"]}}
    (problem,) = pf.option_problems("h", "wa", options, {"wa_db_engine": "ORACLE"})
    assert "ORACLE" in problem.message and "one of MYSQL, PGSQL" in problem.message


def test_merge_names_every_host_once():
    problems = [pf.Problem("x", "bad", "a"), pf.Problem("x", "bad", "b"), pf.Problem("y", "worse", "a")]
    assert pf.merge(problems) == ["x (hosts a, b): bad", "y (host a): worse"]


def test_unknown_variable_suggests_the_close_name():
    known = {"timesync": {"timesync_max_offset"}, "wa": {"wa_db_port"}}
    problems = pf.unknown_variable_problems("h", ["timesync_max_ofset", "wa_db_port", "pki_files", "other"], known)
    assert texts(problems) == [
        "timesync_max_ofset (host h): is not a variable of role timesync and would be ignored: "
        "did you mean timesync_max_offset?"
    ]


def test_skew_budget_must_stay_below_the_replay_window():
    ctx = pf.Context(groups={})
    values = {"timesync_servers": [{"host": "ntp"}], "timesync_max_skew": 10, "wa_replay_window": 10}
    assert [p.variable for p in pf_rules.rules_timesync("h", values, ctx)] == ["timesync_max_skew"]
    values["timesync_max_skew"] = 2.5
    assert pf_rules.rules_timesync("h", values, ctx) == []


def test_legacy_option_needs_mysql():
    ctx = pf.Context(groups={"wa_coreapp": ["c"]})
    values = {"db_client_legacy_connection_option": True, "wa_db_engine": "PGSQL", "wa_db_hostname": "db"}
    assert [p.variable for p in pf_rules.rules_db_client("c", values, ctx)] == ["db_client_legacy_connection_option"]
    values["wa_db_engine"] = "MYSQL"
    assert pf_rules.rules_db_client("c", values, ctx) == []


def test_controller_must_be_inside_the_management_networks():
    ctx = pf.Context(groups={"wa_webapp": ["w"]}, controller_sources={"w": "10.9.9.9"})
    values = {"wa_management_networks": ["10.30.0.0/24"], "firewall_enabled": True}
    (problem,) = pf_rules.rules_firewall("w", values, ctx)
    assert problem.variable == "wa_management_networks" and "10.9.9.9" in problem.message
    values["wa_management_networks"] = ["10.9.9.0/24"]
    assert pf_rules.rules_firewall("w", values, ctx) == []
    # A loopback controller never crosses the firewall; report-only changes nothing.
    ctx.controller_sources["w"] = "127.0.0.1"
    values["wa_management_networks"] = ["10.30.0.0/24"]
    assert pf_rules.rules_firewall("w", values, ctx) == []
    ctx.controller_sources["w"] = "10.9.9.9"
    assert pf_rules.rules_firewall("w", {**values, "firewall_report_only": True}, ctx) == []


def test_wrong_type_is_not_repeated_by_the_rules():
    options = {"timesync_max_offset": {"type": "float"}}
    problems = pf_rules.host_problems(
        "h",
        "timesync",
        options,
        {"timesync_max_offset": "far", "timesync_servers": [{"host": "n"}]},
        pf.Context(groups={}),
    )
    assert [p.variable for p in problems] == ["timesync_max_offset"]
