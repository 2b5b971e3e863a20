"""FEC writer: golden reference, independent validation, one refusal per broken rule, spill."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fec_validator import validate_fec
from msgspec.structs import replace
from sample_entries import ACCOUNT_LABELS, ENTRIES, ORDER5

from postingrules.formats import Fec, FormatError, OptionError
from postingrules.formats.fec import fec_file_name
from postingrules.model.entries import Entry

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "formats" / "fec"


def write(entries: tuple[Entry, ...] | list[Entry], **options: Any) -> bytes:
    out = io.BytesIO()
    options.setdefault("account_labels", ACCOUNT_LABELS)
    count = Fec(**options).write(entries, out)
    assert count == len(entries)
    return out.getvalue()


def test_worked_example_is_byte_identical(reference: Path) -> None:
    golden = reference / "fec" / "worked-example-order5-123456782FEC20251231.txt"
    assert write([ORDER5]) == golden.read_bytes()


def test_reference_files_pass_the_validator(reference: Path) -> None:
    golden = reference / "fec" / "worked-example-order5-123456782FEC20251231.txt"
    assert validate_fec(golden.read_bytes(), "123456782FEC20251231.txt") == []
    tryton = reference / "fec" / "tryton-account_fr-FEC.csv"
    assert validate_fec(tryton.read_bytes()) == []


def test_all_entries_snapshot_and_valid(snapshot: Any) -> None:
    data = write(ENTRIES)
    assert validate_fec(data, fec_file_name("123456782", dt.date(2025, 12, 31))) == []
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match(data, "entries-tab-utf8.txt")
    pipe = write(ENTRIES, separator="|", encoding="iso-8859-15")
    assert validate_fec(pipe, encoding="iso-8859-15") == []
    snapshot.assert_match(pipe, "entries-pipe-latin9.txt")


def test_sorted_chronologically_and_numbered_per_journal() -> None:
    rows = [r.split("\t") for r in write(ENTRIES).decode().split("\r\n")[1:-1]]
    dates = [r[3] for r in rows]
    assert dates == sorted(dates)
    vte = list(dict.fromkeys(r[2] for r in rows if r[0] == "VTE"))
    assert vte == [f"VTE-{n:06d}" for n in range(1, 9)]
    assert {r[2] for r in rows if r[0] == "BQ1"} == {"BQ1-000001"}


def test_spilling_to_disk_gives_the_same_file(tmp_path: Path) -> None:
    many = [replace(e, document_key=f"{e.document_key}#{i}") for i in range(8) for e in ENTRIES]
    in_memory = write(many)
    spilled = write(many, sort_chunk_size=1, temp_dir=str(tmp_path))  # 72 chunks: merged at 64
    assert spilled == in_memory
    assert validate_fec(spilled) == []
    assert list(tmp_path.iterdir()) == []  # temporary chunks are gone


@pytest.mark.parametrize("chunk", [1, 5, 13])
def test_spilling_entries_in_order_or_reversed_gives_the_same_file(chunk: int) -> None:
    many = sorted(
        (replace(e, document_key=f"{e.document_key}#{i}") for i in range(8) for e in ENTRIES),
        key=lambda e: (e.date, e.journal),
    )
    for entries in (many, many[::-1]):
        assert write(entries, sort_chunk_size=chunk) == write(entries)


@pytest.mark.parametrize("seed", range(10))
def test_spilling_random_entries_gives_the_same_file(seed: int) -> None:
    rng = random.Random(seed)
    many = [
        replace(rng.choice(ENTRIES), document_key=f"k{i}", piece=f"P{i}",
                date=dt.date(2025, 3, rng.randint(1, 4)), journal=rng.choice(["VTE", "BQ1", "V"]))
        for i in range(rng.randint(1, 300))
    ]  # fmt: skip
    in_memory = write(many)
    assert write(many, sort_chunk_size=rng.randint(1, 40)) == in_memory
    pieces = [r.split("\t")[8] for r in in_memory.decode().split("\r\n")[1:-1]]
    order = {f"P{i}": i for i in range(len(many))}
    keys = [(dt.date(2025, 3, 1), "", 0)]
    for piece in dict.fromkeys(pieces):  # arrival order kept within a date and journal
        entry = many[order[piece]]
        keys.append((entry.date, entry.journal, order[piece]))
    assert keys == sorted(keys)


def test_numbering_continues_from_previous_export() -> None:
    data = write([ORDER5], first_numbers={"VTE": 42}).decode()
    assert "\tVTE-000042\t" in data


def test_foreign_currency_columns() -> None:
    rows = [r.split("\t") for r in write(ENTRIES).decode().split("\r\n")[1:-1]]
    usd = [r for r in rows if r[17]]
    assert [(r[4], r[16], r[17]) for r in usd] == [("411000", "54,00", "USD"),
                                                   ("707300", "-54,00", "USD")]  # fmt: skip


def test_formula_neutralised_and_accents_kept_in_utf8() -> None:
    data = write(ENTRIES).decode()
    assert "\t'=Crème brûlée œuf «spécial»\t" in data
    assert "\tHélène Dupré\t" in data


def test_ascii_transliterates() -> None:
    data = write(ENTRIES, encoding="ascii")
    assert b'\t\'=Creme brulee oeuf "special"\t' in data
    assert validate_fec(data, encoding="ascii") == []


def test_file_name() -> None:
    assert fec_file_name("123 456 782", dt.date(2025, 12, 31)) == "123456782FEC20251231.txt"
    assert fec_file_name("123456782", dt.date(2000, 1, 1)) == "123456782FEC20000101.txt"
    assert fec_file_name("123456782", dt.date(2099, 12, 31)) == "123456782FEC20991231.txt"
    with pytest.raises(OptionError, match="SIREN"):
        fec_file_name("123456789", dt.date(2025, 12, 31))
    # The DGFiP tool reads the closing date as FEC<20YYMMDD>: other years are refused.
    for year in (1999, 2100):
        with pytest.raises(OptionError, match=r"2000\.\.2099"):
            fec_file_name("123456782", dt.date(year, 12, 31))


def test_compte_lib_is_the_accounts_name_not_the_line_label() -> None:
    """CompteLib names the account (VII): the merchant's chart, then the PCG account it
    subdivides; the line's label only for an account outside the PCG."""
    entries = [
        _with_line(ORDER5, 1, label="Ventes A"),
        replace(_with_line(ORDER5, 1, label="Ventes B"), piece="FA000006"),
        replace(_with_line(ORDER5, 1, label="Ventes C", account="999000"), piece="FA000007"),
    ]
    rows = _rows(write(entries, account_labels={"411": "Clients web"}))[1:]
    assert [(r[4], r[5]) for r in rows] == [
        ("411000", "Clients web"), ("707200", "Ventes de marchandises"),
        ("445720", "Taxes sur le chiffre d'affaires collectées par l'entreprise"),
    ] * 2 + [
        ("411000", "Clients web"), ("999000", "Ventes C"),
        ("445720", "Taxes sur le chiffre d'affaires collectées par l'entreprise"),
    ]  # fmt: skip
    # A chart of 6-digit accounts names the ledger's 8-digit ones.
    eight = _with_line(ORDER5, 1, account="70720000", label="Ventes A")
    rows = _rows(write([eight], account_labels={"707200": "Ventes TVA 20 %"}))[1:]
    assert rows[1][4:6] == ["70720000", "Ventes TVA 20 %"]
    assert validate_fec(write(entries, account_labels={}), NAME) == []


def test_aux_name_goes_with_the_aux_account() -> None:
    """CompAuxLib is never written beside an empty CompAuxNum; a blank name is the number."""
    rows = _rows(write([_with_line(ORDER5, 0, aux_name=" ")]))[1:]
    assert rows[0][6:8] == ["CLIENTWEB", "CLIENTWEB"]
    rows = _rows(write([_with_line(ORDER5, 0, aux=" ", aux_name=None)]))[1:]
    assert rows[0][6:8] == ["", ""]


def test_aux_name_without_aux_account_is_refused_wherever_it_comes() -> None:
    """The kind of a line (the cache key of its account columns) includes an auxiliary name
    given without an auxiliary account: refused on the second entry of an account as on the
    first, not written without its name once the account is known."""
    plain = _with_line(ORDER5, 1, aux=None, aux_name=None)
    orphan = replace(_with_line(ORDER5, 1, aux=None, aux_name="Ventes web"), document_key="b")
    for entries in ([orphan], [plain, orphan]):
        with pytest.raises(FormatError, match="CompAuxNum is blank") as err:
            write(entries)
        assert err.value.document_key == "b"


def test_lone_surrogate_is_refused_naming_entry_and_field() -> None:
    bad = replace(ORDER5, label="Cde \ud800", document_key="surrogate")
    with pytest.raises(FormatError, match="lone surrogate") as err:
        write([bad])
    assert (err.value.document_key, err.value.field) == ("surrogate", "label")


def _with_line(entry: Entry, index: int, **changes: Any) -> Entry:
    lines = list(entry.lines)
    lines[index] = replace(lines[index], **changes)
    return replace(entry, lines=tuple(lines))


def test_journal_label_is_the_entrys_own_or_the_journals() -> None:
    """JournalLib is the entry's journal label when it has one, else the journal's: entries
    of one journal with and without a label keep theirs in one file."""
    labelled = replace(ORDER5, journal_label="Ventes web")
    rows = [r.split("\t") for r in write([ORDER5, labelled, ORDER5]).decode().split("\r\n")[1:-1]]
    k = len(ORDER5.lines)
    assert ORDER5.journal_label is None
    assert [r[1] for r in rows] == ["Ventes"] * k + ["Ventes web"] * k + ["Ventes"] * k


@pytest.mark.parametrize("chunk", [1, 2, 50_000])
def test_journal_labels_mixed_on_a_date_keep_order_and_numbers(chunk: int) -> None:
    """Entries of one JournalCode and date with other JournalLibs (the first one met written
    when numbering, the others kept in the entry) keep arrival order and one numbering."""
    labels = ["Ventes 5%", None, "Ventes web", "Ventes 5%", None]
    entries = [
        replace(ORDER5, journal_label=label, piece=f"P{i}") for i, label in enumerate(labels)
    ]
    rows = [
        r.split("\t") for r in write(entries, sort_chunk_size=chunk).decode().split("\r\n")[1:-1]
    ]
    k = len(ORDER5.lines)
    expected = [label or "Ventes" for label in labels]
    assert [r[1] for r in rows] == [label for label in expected for _ in range(k)]
    assert [r[2] for r in rows] == [f"VTE-{n:06d}" for n in range(1, 6) for _ in range(k)]
    assert [r[8] for r in rows] == [f"P{i}" for i in range(5) for _ in range(k)]
    assert {(r[3], r[9]) for r in rows} == {(f"{ORDER5.date:%Y%m%d}",) * 2}


@pytest.mark.parametrize(
    ("broken", "field", "message"),
    [
        (_with_line(ORDER5, 1, credit=Decimal("17.43")), "lines", "not balanced"),
        (_with_line(ORDER5, 1, account="7O7200"), "lines[2].account", "3 digits"),
        (_with_line(ORDER5, 1, currency="USD"), "lines[2].currency", "go together"),
        (
            _with_line(ORDER5, 1, currency_amount=Decimal(1), currency="usd"),
            "lines[2].currency",
            "ISO 4217",
        ),
        (
            _with_line(_with_line(ORDER5, 1, credit=Decimal("17.415")), 2, credit=Decimal("3.485")),
            "lines[2].credit",
            "2 decimals",
        ),
        (
            _with_line(_with_line(ORDER5, 0, credit=Decimal("20.90")), 0, debit=Decimal(0)),
            "lines",
            "not balanced",
        ),
        (
            _with_line(ORDER5, 1, debit=Decimal(1), credit=Decimal("18.42")),
            "lines[2].debit",
            "exactly one",
        ),
        (_with_line(ORDER5, 1, credit=Decimal(0)), "lines[2].debit", "exactly one"),
        (replace(ORDER5, piece="", reference=""), "piece", "PieceRef"),
        (replace(ORDER5, journal=""), "journal", "JournalCode"),
        (replace(ORDER5, lines=()), "lines", "no lines"),
        # 999000 is outside the PCG: CompteLib falls back to the line's label, blank here.
        (_with_line(ORDER5, 1, label="", account="999000"), "lines[2].label", "CompteLib"),
        (replace(ORDER5, label="Tokyo 東京"), "label", "transliteration"),
        (
            _with_line(ORDER5, 1, currency_amount=Decimal(1), currency="USD\n"),
            "lines[2].currency",
            "ISO 4217",
        ),
        (
            _with_line(ORDER5, 0, currency_amount=Decimal("-22"), currency="USD"),
            "lines[1].currency_amount",
            "sign of no debit line",
        ),
        (
            _with_line(ORDER5, 1, currency_amount=Decimal("19"), currency="USD"),
            "lines[2].currency_amount",
            "sign of no credit line",
        ),
        (_with_line(ORDER5, 0, aux=" "), "lines[1].aux", "CompAuxNum is blank"),
        (_with_line(ORDER5, 0, aux=""), "lines[1].aux", "CompAuxNum is blank"),
    ],
)
def test_writer_refuses_entry_breaking_a_rule(broken: Entry, field: str, message: str) -> None:
    with pytest.raises(FormatError, match=message) as err:
        write([ENTRIES[0], broken], encoding="ascii")
    assert err.value.document_key == ORDER5.document_key
    assert err.value.field == field


def test_writer_refuses_date_outside_fiscal_year() -> None:
    with pytest.raises(FormatError, match="outside the fiscal year: before its start") as err:
        write([ORDER5], fiscal_year_start=dt.date(2025, 4, 1), fiscal_year_end=dt.date(2026, 3, 31))
    assert err.value.field == "date"
    # As text, the way --option and profiles give them.
    with pytest.raises(FormatError, match="outside the fiscal year: after its end 2025-03-13"):
        write([ORDER5], fiscal_year_end="2025-03-13")
    assert write([ORDER5], fiscal_year_start="2025-03-14", fiscal_year_end="2025-03-14") == write(
        [ORDER5]
    )


def test_date_options_given_as_text() -> None:
    data = write(ENTRIES, validation_date="2026-01-15")
    assert data == write(ENTRIES, validation_date=dt.date(2026, 1, 15))
    assert Fec(fiscal_year_end=" 2026-01-31 ").options["fiscal_year_end"] == dt.date(2026, 1, 31)


@pytest.mark.parametrize("name", ["validation_date", "fiscal_year_start", "fiscal_year_end"])
@pytest.mark.parametrize(
    "value", ["31/01/2026", "2026-02-30", 20260131, dt.datetime(2026, 1, 31), ["2026-01-31"]]
)
def test_date_options_refuse_what_is_no_date(name: str, value: Any) -> None:
    with pytest.raises(OptionError, match=f"FEC option {name} must be a date"):
        Fec(**{name: value})


def test_fiscal_year_start_after_end_refused() -> None:
    with pytest.raises(OptionError, match="fiscal_year_start 2026-02-01 is after fiscal_year_end"):
        Fec(fiscal_year_start="2026-02-01", fiscal_year_end=dt.date(2026, 1, 31))


@pytest.mark.parametrize(
    ("options", "message"),
    [({"separator": ";"}, "TAB or '|'"), ({"encoding": "cp1252"}, "ISO 8859-15"),
     ({"sort_chunk_size": 0}, "at least 1"),
     ({"account_labels": {"411000": 5}}, "'account_labels': '411000': 5 is not a non-empty text"),
     ({"account_labels": ["411000"]}, "'account_labels' must be a mapping of text to text")],
)  # fmt: skip
def test_bad_options_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(OptionError, match=re.escape(message)):
        Fec(**options)


# --- the validator fails a file that breaks any single rule ------------------------------------

NAME = "123456782FEC20251231.txt"


def _rows(data: bytes) -> list[list[str]]:
    return [r.split("\t") for r in data.decode().split("\r\n")[:-1]]


def _join(rows: list[list[str]]) -> bytes:
    return ("\r\n".join("\t".join(r) for r in rows) + "\r\n").encode()


def _set(row: int, col: int, value: str) -> Callable[[list[list[str]]], None]:
    def mutate(rows: list[list[str]]) -> None:
        rows[row][col] = value

    return mutate


def _swap_entries(rows: list[list[str]]) -> None:
    # Give the second VTE entry (and its lines) the number of the third: a gap in the sequence.
    second = sorted({r[2] for r in rows[1:] if r[0] == "VTE"})[1]
    for r in rows[1:]:
        if r[2] == second:
            r[2] = "VTE-000099"


def _both(row: int, debit: str, credit: str) -> Callable[[list[list[str]]], None]:
    def mutate(rows: list[list[str]]) -> None:
        rows[row][11], rows[row][12] = debit, credit  # still balanced: only that rule breaks

    return mutate


def _flip_first_foreign_amount(rows: list[list[str]]) -> None:
    row = next(r for r in rows[1:] if r[17])
    row[16] = row[16][1:] if row[16].startswith("-") else f"-{row[16]}"


def _redate_first_entry(rows: list[list[str]]) -> None:
    for r in rows[1:]:
        if (r[0], r[2]) == (rows[1][0], rows[1][2]):
            r[3] = r[9] = r[15] = "20250331"


MUTATIONS: dict[str, tuple[Callable[[list[list[str]]], None], str]] = {
    "header": (_set(0, 17, "IDevise"), NAME),
    "field-count": (lambda rows: rows[1].append("x"), NAME),
    "mandatory": (_set(1, 10, ""), NAME),
    "account": (_set(1, 4, "AB1000"), NAME),
    "account-name": (_set(2, 5, "Ventes"), NAME),  # the first 707200 line: the others differ
    "aux-account": (_set(1, 6, ""), NAME),
    "date": (_set(1, 9, "20251332"), NAME),
    "amount": (_set(1, 11, "1 036,00"), NAME),
    "debit-credit": (_both(2, "1,00", "26,00"), NAME),
    "currency": (_set(1, 17, "USD"), NAME),
    "currency-sign": (_flip_first_foreign_amount, NAME),
    "balance": (_set(2, 12, "25,01"), NAME),
    "entry-consistency": (_set(2, 8, "FA999999"), NAME),
    "numbering": (_swap_entries, NAME),
    "chronology": (_redate_first_entry, NAME),
    "file-name": (lambda rows: None, "123456789FEC20251231.txt"),
    "fiscal-year": (lambda rows: None, "123456782FEC20250305.txt"),
}


def test_every_rule_has_a_failing_case() -> None:
    from fec_validator import RULES

    assert set(MUTATIONS) | {"encoding", "separator"} == set(RULES)


@pytest.mark.parametrize("rule", sorted(MUTATIONS))
def test_validator_fails_file_breaking_one_rule(rule: str) -> None:
    valid = write(ENTRIES)
    assert validate_fec(valid, NAME) == []
    rows = _rows(valid)
    mutate, name = MUTATIONS[rule]
    mutate(rows)
    problems = validate_fec(_join(rows), name)
    assert {p.rule for p in problems} == {rule}, problems


@pytest.mark.parametrize(
    ("column", "value"), [(6, ""), (7, ""), (7, " "), (6, " ")]
)  # CompAuxNum, CompAuxLib of the first line (CLIENTWEB, CLIENT WEB)
def test_validator_wants_both_aux_columns_or_neither(column: int, value: str) -> None:
    rows = _rows(write(ENTRIES))
    rows[1][column] = value
    assert {p.rule for p in validate_fec(_join(rows), NAME)} == {"aux-account"}
    rows[1][6] = rows[1][7] = ""
    assert validate_fec(_join(rows), NAME) == []


@pytest.mark.parametrize("closing", ["19991231", "21000101"])
def test_validator_wants_a_closing_date_of_20yy_in_the_name(closing: str) -> None:
    problems = validate_fec(write(ENTRIES), f"123456782FEC{closing}.txt")
    assert [(p.rule, p.message) for p in problems] == [
        ("file-name", f"closing date {closing} is not 20YYMMDD")
    ]


def test_validator_fails_bad_encoding_and_separator() -> None:
    assert {p.rule for p in validate_fec("é".encode("latin-1"))} == {"encoding"}
    data = write(ENTRIES).replace(b"\t", b";")
    assert {p.rule for p in validate_fec(data)} == {"separator"}


def test_round_trip_recovers_dates_accounts_amounts() -> None:
    rows = _rows(write(ENTRIES))[1:]
    got = sorted(
        (dt.datetime.strptime(r[3], "%Y%m%d").date(), r[8], r[4], r[6],
         Decimal(r[11].replace(",", ".")) - Decimal(r[12].replace(",", ".")))
        for r in rows
    )  # fmt: skip
    expected = sorted(
        (e.date, e.piece, ln.account, ln.aux or "", ln.debit - ln.credit)
        for e in ENTRIES for ln in e.lines
    )  # fmt: skip
    assert got == expected


def test_journal_code_with_percent_is_numbered_verbatim() -> None:
    data = write([replace(ORDER5, journal="V%d")]).decode()
    assert "\tV%d-000001\t" in data


@pytest.mark.parametrize("separator", ["\t", "|"])
@pytest.mark.parametrize(
    "value",
    ["P 1", " P1", "P1 ", "=1+1", "-5", "@x", "+33", "a|b", "a\tb", "é", "x\x00y", "x\x01y", "ok"],
)
def test_pieces_and_labels_are_made_safe_like_any_text(separator: str, value: str) -> None:
    fec = Fec(separator=separator, account_labels=ACCOUNT_LABELS)
    entry = replace(ORDER5, piece=value, label=f"L{value}" if value[0] != "-" else value)
    rows = [r.split(separator) for r in write([entry], separator=separator).decode().split("\r\n")]
    assert rows[1][8] == fec._text(entry.piece, "piece")
    assert rows[1][10] == fec._text(entry.label, "label")


def test_validation_date_fills_valid_date_and_keeps_the_order() -> None:
    plain = [r.split("\t") for r in write(ENTRIES).decode().split("\r\n")[1:-1]]
    data = write(ENTRIES, validation_date=dt.date(2026, 1, 15), sort_chunk_size=3)
    rows = [r.split("\t") for r in data.decode().split("\r\n")[1:-1]]
    assert {r[15] for r in rows} == {"20260115"}
    assert [r[:15] + r[16:] for r in rows] == [r[:15] + r[16:] for r in plain]
    assert validate_fec(data) == []


@pytest.mark.parametrize("encoding", ["utf-8", "iso-8859-15"])
def test_accented_text_in_every_column_is_encoded_once(encoding: str) -> None:
    """The writer keeps the columns it caches (account, date, journal) already encoded and
    puts entries together from them: an accented value from each source (the PCG's name,
    an account outside the PCG named by the entry's or the line's label, the auxiliary
    account, the piece, labels, a second JournalLib for a JournalCode) is written as the
    encoding's bytes of its text, no more and no less."""
    first = replace(ORDER5, piece="Pièce-5", label="Réglé à Noël", journal_label="Ventes é")
    first = _with_line(first, 0, aux="CLÉ", aux_name="Hélène")
    first = _with_line(first, 1, account="990000", label="Réglé à Noël")
    second = replace(ORDER5, piece="Pièce-6", label="", journal_label="Ventes è")
    second = _with_line(second, 1, account="991000", label="Ligne à part")
    data = write([first, second], account_labels={}, encoding=encoding)
    rows = [r.split("\t") for r in data.decode(encoding).split("\r\n")[1:-1]]
    pcg = "Taxes sur le chiffre d'affaires collectées par l'entreprise"
    assert [(r[1], r[4], r[5], r[6], r[7], r[8], r[10]) for r in rows] == [
        ("Ventes é", "411000", "Clients", "CLÉ", "Hélène", "Pièce-5", "Réglé à Noël"),
        ("Ventes é", "990000", "Réglé à Noël", "", "", "Pièce-5", "Réglé à Noël"),
        ("Ventes é", "445720", pcg, "", "", "Pièce-5", "Réglé à Noël"),
        ("Ventes è", "411000", "Clients", "CLIENTWEB", "CLIENT WEB", "Pièce-6", "Clients"),
        ("Ventes è", "991000", "Ligne à part", "", "", "Pièce-6", "Ligne à part"),
        ("Ventes è", "445720", pcg, "", "", "Pièce-6", "TVA collectee 20%"),
    ]  # fmt: skip
    assert [r[2] for r in rows] == ["VTE-000001"] * 3 + ["VTE-000002"] * 3
