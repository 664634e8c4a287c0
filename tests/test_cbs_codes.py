"""Table-driven tests of every CBS quirk in noordstats.cbs_codes, on plain strings."""

from __future__ import annotations

import math
import re
import warnings

import pytest

from noordstats import cbs_codes as cc


@pytest.mark.parametrize(
    ("code", "year", "frequency", "index"),
    [
        ("2021JJ00", 2021, "year", 0),
        ("2021KW03", 2021, "quarter", 3),
        ("2021MM11", 2021, "month", 11),
        ("2024HJ01", 2024, "half-year", 1),
        ("2023SJ00", 2023, "school-year", 0),
        ("2019X000", 2019, "multi-year", 0),
        ("  2021JJ00  ", 2021, "year", 0),  # padded as CBS serves keys
    ],
)
def test_decode_period(code: str, year: int, frequency: str, index: int) -> None:
    period = cc.decode_period(code)
    assert (period.code, period.year, period.frequency, period.index) == (
        code.strip(),
        year,
        frequency,
        index,
    )


@pytest.mark.parametrize(
    "code", ["2021", "2021XX00", "21JJ00", "2021JJ0", "2021jj00", "", "JJ2021"]
)
def test_decode_period_rejects_bad_codes(code: str) -> None:
    with pytest.raises(cc.CodeError, match="not a CBS period code"):
        cc.decode_period(code)


@pytest.mark.parametrize(
    ("code", "valid"),
    [("2021JJ00", True), ("2021KW04", True), ("2019X000", True), ("2021XX00", False)],
)
def test_period_code_pattern_agrees_with_decode_period(code: str, valid: bool) -> None:
    assert bool(re.match(cc.PERIOD_CODE_PATTERN, code)) is valid


@pytest.mark.parametrize(
    ("code", "status", "nl", "en"),
    [
        ("2024JJ00", None, "2024", "2024"),
        ("2023SJ00", None, "2023/'24", "2023/'24"),
        ("1999SJ00", None, "1999/'00", "1999/'00"),
        ("2024KW04", None, "4e kwartaal 2024", "Q4 2024"),
        ("2024MM03", None, "maart 2024", "March 2024"),
        ("2024HJ01", None, "1e helft 2024", "H1 2024"),
        ("2024JJ00", "voorlopig", "2024 (voorlopig)", "2024 (provisional)"),
        ("2024KW01", "nader voorlopig", "1e kwartaal 2024 (nader voorlopig)",
         "Q1 2024 (revised provisional)"),
        ("2024JJ00", "definitief", "2024", "2024"),  # only provisional figures are marked
        (" 2024JJ00 ", None, "2024", "2024"),  # padded as CBS serves keys
        ("2019-2023", None, "2019-2023", "2019-2023"),  # a span is already words
        ("-", "voorlopig", "-", "-"),  # no figure: nothing to mark
        (None, None, "–", "–"),
    ],
)  # fmt: skip
def test_describe_period(code, status, nl: str, en: str) -> None:
    assert cc.describe_period(code, "nl", status) == nl
    assert cc.describe_period(code, "en", status) == en


def test_every_period_of_the_snapshot_reads_as_words() -> None:
    """No shipped table's latest period is left as a code, in either language."""
    from noordstats import paths
    from noordstats.declarations.tables import declarations
    from noordstats.storage import store

    for table_id in declarations():
        meta = store.read_meta(paths.SNAPSHOT_DIR, table_id) or {}
        for code in meta.get("periods") or []:
            for lang in ("nl", "en"):
                words = cc.describe_period(code, lang)
                assert not re.search(cc.PERIOD_CODE_PATTERN[1:-1], words), (table_id, code, words)


@pytest.mark.parametrize(
    ("label", "suffix", "code"),
    [
        ("2023", None, "2023JJ00"),
        ("2023*", None, "2023JJ00"),
        ("2023**", None, "2023JJ00"),
        ("2023 ", None, "2023JJ00"),  # harvest's provisional mark: a trailing space
        ("2023 1e kwartaal", None, "2023KW01"),
        ("2023 4e kwartaal*", None, "2023KW04"),
        ("2023 maart", None, "2023MM03"),
        ("2023 december", None, "2023MM12"),
        ("2023 december", "december", "2023JJ00"),  # 83582NED: yearly 'YYYY december'
        ("2023 december ", "december", "2023JJ00"),
        ("2023/'24", None, "2023SJ00"),
        ("2023/'24*", None, "2023SJ00"),
        ("2024 eerste helft", None, "2024HJ01"),
        ("2024 tweede helft", None, "2024HJ02"),
    ],
)
def test_encode_period_label(label: str, suffix: str | None, code: str) -> None:
    assert cc.encode_period_label(label, suffix) == code


@pytest.mark.parametrize(
    "label", ["2023 5e kwartaal", "2023 mrt", "23", "Q1 2023", "", "2023-2024"]
)
def test_encode_period_label_rejects_unknown_titles(label: str) -> None:
    with pytest.raises(cc.CodeError, match="unknown CBS period label"):
        cc.encode_period_label(label)


@pytest.mark.parametrize(
    ("label", "provisional"),
    [("2023*", True), ("2023 ", True), ("2023**", True), ("2023", False), (" ", False)],
)
def test_is_provisional_label(label: str, provisional: bool) -> None:
    assert cc.is_provisional_label(label) is provisional


@pytest.mark.parametrize(
    ("label", "unmarked", "status"),
    [
        ("2023**", "definitief", "nader voorlopig"),
        ("2023*", "definitief", "voorlopig"),
        ("2023 ", "onbekend", "voorlopig"),
        ("2023", "definitief", "definitief"),
        ("2023", "onbekend", "onbekend"),
    ],
)
def test_status_from_label(label: str, unmarked: str, status: str) -> None:
    assert cc.status_from_label(label, unmarked) == status


def test_status_from_label_rejects_other_defaults() -> None:
    with pytest.raises(cc.CodeError, match="definitief' or 'onbekend"):
        cc.status_from_label("2023", "voorlopig")


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("NL01", "NL"),
        ("LD01", "LD"),
        ("PV20", "PV"),
        ("PV20  ", "PV"),
        ("CR01", "CR"),
        ("GM0014", "GM"),
        ("ES01", "ES"),
        ("LG01", "LG"),
        # GeoDetail keys of 84799NED (Kerncijfers wijken en buurten), padded to 10 as CBS sends them
        ("NL00      ", "NL"),
        ("GM0014    ", "GM"),
        ("WK001400  ", "WK"),
        ("BU00140000", "BU"),
    ],
)
def test_region_level(code: str, level: str) -> None:
    assert cc.region_level(code) == level


@pytest.mark.parametrize("code", ["XX01", "PV", "pv20", "", "Groningen (PV)", "20PV"])
def test_region_level_rejects_bad_prefixes(code: str) -> None:
    with pytest.raises(cc.CodeError, match="not a CBS region code"):
        cc.region_level(code)


@pytest.mark.parametrize(
    ("key", "bare"),
    [("PV20  ", "PV20"), ("301000 ", "301000"), ("  T001081", "T001081"), ("CR01", "CR01")],
)
def test_strip_key(key: str, bare: str) -> None:
    assert cc.strip_key(key) == bare


@pytest.mark.parametrize(
    ("text", "status"),
    [
        # as CBS's OData v3 feed writes them (Perioden.Status; 80137ned records 'Definitief')
        ("Definitief", "definitief"),
        ("Voorlopig", "voorlopig"),
        ("NaderVoorlopig", "nader voorlopig"),
        # StatLine metadata exports and the OData v4 service
        ("Nader voorlopig", "nader voorlopig"),
        # case and spacing variants
        (" nader VOORLOPIG ", "nader voorlopig"),
        ("nader  voorlopig", "nader voorlopig"),
        ("Nader_Voorlopig", "nader voorlopig"),
        ("nader-voorlopig", "nader voorlopig"),
        ("NADERVOORLOPIG", "nader voorlopig"),
        ("definitief ", "definitief"),
        ("VOORLOPIG", "voorlopig"),
        # the project's own words
        ("Berekend", "berekend"),
        ("onbekend", "onbekend"),
        ("", "onbekend"),
        ("  ", "onbekend"),
        (None, "onbekend"),
    ],
)
def test_normalise_status(text: str | None, status: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cc.normalise_status(text) == status


@pytest.mark.parametrize(
    ("text", "kept"), [("Provisional", "Provisional"), ("Voorlopig*", "Voorlopig*"), (" x ", "x")]
)
@pytest.mark.reliability(
    "real format", "a CBS period status the project does not know",
    "kept as CBS wrote it, with an UnknownStatusWarning; never an error",
)  # fmt: skip
def test_normalise_status_keeps_unknown_words_with_a_warning(text: str, kept: str) -> None:
    with pytest.warns(cc.UnknownStatusWarning, match="unknown CBS status"):
        assert cc.normalise_status(text) == kept


@pytest.mark.parametrize(
    ("cell", "decimal_comma", "value"),
    [
        ("12.5", False, 12.5),
        ("  557995", False, 557995.0),  # right-aligned as in UntypedDataSet exports
        ("25,9", True, 25.9),
        ("1.234,5", True, 1234.5),
        ("-", False, 0.0),  # nihil: a true zero
        (" - ", False, 0.0),
        (7, False, 7.0),
        (2.5, False, 2.5),
    ],
)
def test_parse_value_numbers_and_nil(cell: object, decimal_comma: bool, value: float) -> None:
    assert cc.parse_value(cell, decimal_comma=decimal_comma) == value


@pytest.mark.parametrize("cell", ["", ".", "x", "?", "   .", None])
def test_parse_value_markers_are_nan_never_zero(cell: str | None) -> None:
    assert math.isnan(cc.parse_value(cell))


@pytest.mark.parametrize("cell", ["abc", "12a", "<5", "1,2,3"])
def test_parse_value_rejects_bad_cells(cell: str) -> None:
    with pytest.raises(cc.CodeError, match="not a CBS cell value"):
        cc.parse_value(cell)


@pytest.mark.parametrize(
    ("key", "measure"),
    [("Vestigingen_1", True), ("k_2Tot10WerkzamePersonen_4", True), ("RegioS", False),
     ("BedrijfstakkenBranchesSBI2008", False), ("Perioden", False)],
)  # fmt: skip
def test_is_measure_key(key: str, measure: bool) -> None:
    assert cc.is_measure_key(key) is measure


@pytest.mark.parametrize(
    ("key", "title"),
    [
        ("BanenVanWerknemersInDecember_1", "Banen van werknemers in december"),
        ("k_0WerkzamePersonen_2", "0 werkzame personen"),
        ("k_2Tot10WerkzamePersonen_4", "2 tot 10 werkzame personen"),
        ("PersonenautoS_196", "Personenauto's"),
        ("PaprikaSTotaal_413", "Paprika's totaal"),
        ("TotDeAOWLeeftijd_153", "Tot de AOW leeftijd"),
        ("NVSEnBVS_8", "NVS en BVS"),
        ("Vleesvarkens50KgOfMeerTotaal_585", "Vleesvarkens 50 kg of meer totaal"),
    ],
)
def test_title_from_key(key: str, title: str) -> None:
    assert cc.title_from_key(key) == title


def test_title_from_key_rejects_empty_keys() -> None:
    with pytest.raises(cc.CodeError):
        cc.title_from_key("_1")


@pytest.mark.parametrize(
    ("title", "key"),
    [("Leerlingen/studenten", "LeerlingenStudenten"), ("Vestigingen", "Vestigingen"),
     ("aantal banen (x 1 000)", "AantalBanenX1000")],
)  # fmt: skip
def test_key_from_title(title: str, key: str) -> None:
    assert cc.key_from_title(title) == key


def test_key_from_title_rejects_titles_without_words() -> None:
    with pytest.raises(cc.CodeError):
        cc.key_from_title(" / ")
