"""Report notebook parameters: what each notebook declares, and every bad value refused before
any work, with a one-line error naming the valid choices (and nothing written by the CLI)."""

from __future__ import annotations

import pytest

from noordstats import cli, paths, regions
from noordstats.declarations.themes import theme_ids
from noordstats.report.page import parameters
from noordstats.report.page.parameters import ParameterError

NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))
SPECIALISATION = paths.NOTEBOOKS_DIR / "theme.ipynb"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_declared_parameters_agree_with_papermill_and_have_help(notebook):
    import papermill

    ours = parameters.read_declared_parameters(notebook)
    theirs = papermill.inspect_notebook(str(notebook))
    assert list(ours) == list(theirs), "papermill must parse every parameter line"
    for name, declared in ours.items():
        assert declared.type_name == theirs[name]["inferred_type_name"]
        assert declared.help and declared.help == theirs[name]["help"]
        assert repr(declared.default).replace("'", '"') == theirs[name]["default"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_defaults_are_valid(notebook):
    declared = parameters.read_declared_parameters(notebook)
    values = parameters.validate_request(notebook, {})
    assert values == {name: p.default for name, p in declared.items()}


def test_specialisation_parameters_are_the_documented_ones():
    declared = parameters.read_declared_parameters(SPECIALISATION)
    assert list(declared) == [
        "theme",
        "region",
        "compare",
        "start_year",
        "end_year",
        "source",
        "lang",
    ]
    assert declared["theme"].default in theme_ids()
    assert declared["region"].default == regions.NORTH
    assert "NL01" in declared["compare"].default


def test_good_overrides_pass_through():
    values = parameters.validate_request(
        SPECIALISATION,
        {
            "theme": "agrofood",
            "region": "PV21",
            "compare": ["NL01", "CR05"],
            "start_year": 2015,
            "end_year": 2020,
            "source": "auto",
        },
    )
    assert values["region"] == "PV21" and values["compare"] == ["NL01", "CR05"]
    assert parameters.validate_request(SPECIALISATION, {"end_year": None})["end_year"] is None


BAD_REQUESTS = [
    ("unknown parameter", {"regoin": "LD01"}, "unknown parameter 'regoin'", "region"),
    ("wrong type: year as text", {"start_year": "2015"}, "start_year must be int", "str"),
    ("wrong type: bool for a year", {"start_year": True}, "start_year must be int", "bool"),
    ("wrong type: one region for a list", {"compare": "NL01"}, "compare must be list", "str"),
    ("wrong type: number for text", {"region": 20}, "region must be str", "int"),
    (
        "unknown theme",
        {"theme": "space"},
        "unknown theme 'space'",
        "cleantech",
    ),
    ("unknown region code", {"region": "LD09"}, "unknown region 'LD09'", "CR01..CR40"),
    ("region at a level reports do not cover", {"region": "NL01"}, "unknown region 'NL01'", "LD01"),
    (
        "unknown region among those compared",
        {"compare": ["NL01", "PV99"]},
        "unknown region 'PV99' in compare",
        "PV20",
    ),
    ("empty comparison list", {"compare": []}, "compare must be a non-empty list", "[]"),
    (
        "start year after end year",
        {"start_year": 2020, "end_year": 2015},
        "start_year 2020 is after end_year 2015",
        "2015",
    ),
    ("year out of range", {"start_year": 20}, "start_year must be a year", "1900"),
    ("unknown data source", {"source": "online"}, "unknown source 'online'", "snapshot"),
]


def _cases(rows: list[tuple], where: str, expected: str) -> list:
    return [
        pytest.param(
            *row,
            id=row[0],
            marks=pytest.mark.reliability("bad input", f"{where}: {row[0]}", expected),
        )
        for row in rows
    ]


@pytest.mark.parametrize(
    ("case", "overrides", "message", "names"),
    _cases(BAD_REQUESTS, "notebook parameter", "ParameterError naming the valid choices"),
)
def test_bad_parameter_is_refused_in_one_line(case, overrides, message, names):
    with pytest.raises(ParameterError) as caught:
        parameters.validate_request(SPECIALISATION, overrides)
    text = str(caught.value)
    assert message in text and names in text
    assert "\n" not in text


def test_every_valid_choice_is_named():
    with pytest.raises(ParameterError) as caught:
        parameters.check_values(theme="nope")
    assert all(theme in str(caught.value) for theme in theme_ids())
    with pytest.raises(ParameterError) as caught:
        parameters.check_values(region="XX")
    for code in regions.list_regions(("LD", "PV")).region_code:
        assert code in str(caught.value)


def test_check_values_refuses_a_name_it_has_no_rule_for():
    with pytest.raises(ParameterError, match="unknown parameter 'colour'; valid: theme"):
        parameters.check_values(colour="red")


def test_notebook_without_annotation_is_refused(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("region = 'LD01'")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    path = tmp_path / "bare.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ParameterError, match="not 'name: type = value'"):
        parameters.read_declared_parameters(path)


CLI_CASES = [
    ("unknown report", ["report", "space"], "unknown report 'space'", "cleantech"),
    (
        "unknown region",
        ["report", "cleantech", "--region", "XX01"],
        "unknown region 'XX01'",
        "LD01",
    ),
    (
        "reversed years",
        ["report", "cleantech", "--start-year", "2020", "--end-year", "2010"],
        "start_year 2020 is after end_year 2010",
        "2010",
    ),
    (
        "unknown -p parameter",
        ["report", "claims", "-p", "compare=[NL01]"],
        "unknown parameter 'compare'",
        "region, source",
    ),
    ("-p without a value", ["report", "claims", "-p", "region"], "is not NAME=VALUE", "region"),
    ("--jobs 0", ["reports", "--jobs", "0"], "--jobs must be a whole number", "'0'"),
    ("--jobs not a number", ["reports", "--jobs", "two"], "--jobs must be a whole number", "'two'"),
    (
        "--only unknown report",
        ["reports", "--only", "cleantech", "spaceships"],
        "unknown report 'spaceships'",
        "region_profile",
    ),
    (
        "reports for an unknown region",
        ["reports", "--region", "LD01", "GM9999"],
        "unknown region 'GM9999'",
        "PV31",
    ),
]


@pytest.mark.parametrize(
    ("case", "argv", "message", "names"),
    _cases(CLI_CASES, "CLI", "exit 2, one-line error naming the valid choices, nothing written"),
)
def test_bad_cli_input_exits_2_and_writes_nothing(tmp_path, capsys, case, argv, message, names):
    out = tmp_path / "reports"
    status = cli.main([*argv, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err.startswith("noordstats: error: ") and "\n" not in err
    assert message in err and names in err
    assert not out.exists()
