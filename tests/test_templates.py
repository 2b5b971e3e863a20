"""Templates (parse, check, render) and account normalisation.

Templates are the rule files' only string language: ``"Cde {order.reference} du
{order.date:%d/%m/%Y}"``.  They are parsed once into literal text and slots, rendered by
concatenation, and never handed to ``str.format`` or ``eval``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import postingrules
from postingrules.dsl import template as template_module
from postingrules.dsl.plan import AccountError, normalise_account
from postingrules.dsl.template import (
    MissingValueError,
    ParsedTemplate,
    Slot,
    TemplateSyntaxError,
    compile_template,
    parse_template,
)
from postingrules.model.entries import Entry, Refusal
from postingrules.model.reader import parse_json, validate

ROOT = Path(__file__).parents[1]


def render(text: str, **values: Any) -> str:
    """Render a template against plain values keyed by field path (dots as given)."""
    parsed = parse_template(text)
    getters: dict[str, Callable[[Any], Any]] = {
        slot.path: (lambda ctx, p=slot.path: ctx[p]) for slot in parsed.slots
    }
    return compile_template(parsed, getters)(values)


# ---- parsing --------------------------------------------------------------------------------


def test_literal_template() -> None:
    parsed = parse_template("CLIENT WEB")
    assert parsed == ParsedTemplate("CLIENT WEB", ("CLIENT WEB",))
    assert parsed.is_literal and parsed.slots == ()


def test_slots_keep_path_format_filters_and_offset() -> None:
    parsed = parse_template(
        'Cde {order.reference} du {order.date:%d/%m/%Y} {customer.name|upper|default("x")}'
    )
    assert parsed.parts == (
        "Cde ",
        Slot("order.reference", None, (), 5),
        " du ",
        Slot("order.date", "%d/%m/%Y", (), 26),
        " ",
        Slot("customer.name", None, (("upper", None), ("default", "x")), 48),
    )
    assert not parsed.is_literal
    assert [s.path for s in parsed.slots] == ["order.reference", "order.date", "customer.name"]


def test_spaces_around_the_path_and_filters_are_allowed() -> None:
    (slot,) = parse_template("{ order.reference | upper | truncate( 3 ) }").slots
    assert slot.path == "order.reference"
    assert slot.offset == 2
    assert slot.filters == (("upper", None), ("truncate", 3))


def test_double_braces_are_literal_braces() -> None:
    parsed = parse_template("{{0}} {{__class__}} }}{{")
    assert parsed.is_literal
    assert render("{{0}} {{__class__}} }}{{") == "{0} {__class__} }{"
    assert render("{{{order.id}}}", **{"order.id": "42"}) == "{42}"


@pytest.mark.parametrize(
    ("text", "code", "offset", "message"),
    [
        ("ab {order.id", "template-syntax", 3, "a `{` is never closed"),
        ("ab } cd", "template-syntax", 3, "a `}` closes no `{`"),
        ("x {} y", "template-syntax", 2, "empty field `{}` in template"),
        ("x { } y", "template-syntax", 2, "empty field `{}` in template"),
        (
            "{a|shout}",
            "unknown-filter",
            3,
            "unknown filter `shout`; filters are upper, lower, trim, truncate, pad, default",
        ),
        (
            "{a|truncate}",
            "bad-filter-argument",
            3,
            "filter `truncate` needs a length, e.g. truncate(20)",
        ),
        ("{a|pad}", "bad-filter-argument", 3, "filter `pad` needs a length, e.g. pad(20)"),
        (
            "{a|default}",
            "bad-filter-argument",
            3,
            'filter `default` needs a quoted text, e.g. default("-")',
        ),
        (
            "{a|default(3)}",
            "bad-filter-argument",
            3,
            'filter `default` needs a quoted text, e.g. default("-")',
        ),
        (
            '{a|truncate("x")}',
            "bad-filter-argument",
            3,
            "filter `truncate` needs a length, e.g. truncate(20)",
        ),
        ("{a|lower(2)}", "bad-filter-argument", 3, "filter `lower` takes no argument"),
        ('{a|trim("x")}', "bad-filter-argument", 3, "filter `trim` takes no argument"),
        (
            "{a|upper|lowr}",
            "unknown-filter",
            9,
            "unknown filter `lowr`; filters are upper, lower, trim, truncate, pad, default",
        ),
    ],
)
def test_template_syntax_errors(text: str, code: str, offset: int, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        parse_template(text)
    assert (info.value.code, info.value.offset, info.value.message) == (code, offset, message)


def test_unknown_filter_suggests_the_closest() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        parse_template("{a|uper}")
    assert info.value.hint == "did you mean `upper`?"


# ---- rendering: values and formats ----------------------------------------------------------


def test_fields_are_substituted_in_order() -> None:
    assert render(
        "Web {order.id} - {customer.name}", **{"order.id": "1042", "customer.name": "Camille"}
    ) == ("Web 1042 - Camille")


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("%d/%m/%Y", "05/01/2026"),
        ("%Y%m%d", "20260105"),
        ("%d %B %Y", "05 January 2026"),
        ("%y-%j", "26-005"),
    ],
)
def test_dates_use_strftime(fmt: str, expected: str) -> None:
    assert render(f"{{order.date:{fmt}}}", **{"order.date": dt.date(2026, 1, 5)}) == expected


def test_dates_without_format_are_iso() -> None:
    assert render("{order.date}", **{"order.date": dt.date(2026, 1, 5)}) == "2026-01-05"


def test_amounts_rates_and_booleans() -> None:
    values = {"a": Decimal("74.70"), "r": Decimal("5.5"), "b": True, "c": False}
    assert render("{a} {r} {b} {c}", **values) == "74.70 5.5 yes no"
    assert render("{a}", a=Decimal("1E+2")) == "100"  # never scientific notation


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("C{customer.id:06}", "2317", "C002317"),
        ("C{customer.id:06}", "123456", "C123456"),
        ("C{customer.id:06}", "12345678", "C12345678"),  # a width pads, never truncates
        ("[{customer.id:6}]", "42", "[    42]"),
        ("{customer.id:010}", "7", "0000000007"),
    ],
)
def test_zero_and_space_padding(template: str, value: str, expected: str) -> None:
    assert render(template, **{"customer.id": value}) == expected


def test_zero_padding_keeps_the_sign_first() -> None:
    assert render("{payment.amount:06}", **{"payment.amount": Decimal("-12")}) == "-00012"


# ---- rendering: filters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("{x|upper}", "Camille Durand", "CAMILLE DURAND"),
        ("{x|upper}", "invité", "INVITÉ"),
        ("{x|lower}", "SARL Thé", "sarl thé"),
        ("{x|trim}", "  Lyon \t", "Lyon"),
        ("{x|truncate(4)}", "KXWTQZRAB", "KXWT"),
        ("{x|truncate(20)}", "short", "short"),
        ("{x|truncate(0)}", "abc", ""),
        ("[{x|pad(6)}]", "abc", "[abc   ]"),
        ("[{x|pad(2)}]", "abcd", "[abcd]"),
        ('{x|default("-")}', "given", "given"),
        ('{x|default("-")}', None, "-"),
        ('{x|default("-")}', "", "-"),
        ('[{x|default("")}]', None, "[]"),
    ],
)
def test_each_filter(template: str, value: Any, expected: str) -> None:
    assert render(template, x=value) == expected


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("{x|trim|truncate(3)}", "  abcdef", "abc"),
        ("{x|truncate(3)|trim}", "  abcdef", "a"),
        ("[{x|trim|upper|pad(5)}]", " ab ", "[AB   ]"),
        ("[{x|pad(5)|truncate(3)}]", "a", "[a  ]"),
        ('{x|default("invité")|upper}', None, "INVITÉ"),
        ('{x|default("invité")|upper}', "Camille", "CAMILLE"),
        # `default` replaces an empty value before any filter runs, wherever it is written:
        ('{x|upper|default("invité")}', None, "INVITÉ"),
        ('{x|truncate(3)|default("anonyme")}', None, "ano"),
    ],
)
def test_filters_chain_left_to_right(template: str, value: Any, expected: str) -> None:
    assert render(template, x=value) == expected


def test_filters_apply_after_the_format() -> None:
    assert render("{d:%d %B|upper}", d=dt.date(2026, 3, 1)) == "01 MARCH"
    assert render("{n:06|truncate(3)}", n="42") == "000"


# ---- missing values ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, ""])
def test_missing_value_without_default_raises(value: Any) -> None:
    with pytest.raises(MissingValueError, match=r"field `customer.name` is empty"):
        render("Web {customer.name|upper}", **{"customer.name": value})


def test_a_literal_template_needs_no_value() -> None:
    parsed = parse_template("CLIENT WEB")
    assert compile_template(parsed, {})(object()) == "CLIENT WEB"


# ---- never str.format -------------------------------------------------------------------------


def test_template_module_never_formats_or_evaluates_user_text() -> None:
    source = Path(template_module.__file__).read_text("utf-8")
    code = re.sub(r'"""[\s\S]*?"""', "", source)  # docstrings may mention what we avoid
    for forbidden in (".format(", ".format_map(", "eval(", "string.Template", "%("):
        assert forbidden not in code, forbidden
    assert code.count("exec(") == 1  # compile_template's, over generated names only (below)


HOSTILE = '"); import os; os.system("x"); ("{{'


def test_generated_renderers_hold_user_text_as_data_not_code() -> None:
    parsed = parse_template(
        f'{HOSTILE}{{customer.name|default("); exit() #")|truncate(12)}}'
        f"{HOSTILE}{{order.date:%d/%m/%Y}}__import__"
    )
    getters = {"customer.name": lambda ctx: None, "order.date": lambda ctx: dt.date(2026, 1, 2)}
    render = compile_template(parsed, getters, {"order.date": "date", "customer.name": "text"})
    code = render.__code__
    generated = re.compile(
        r"^(ctx|[vtgfdmlwc]\d+(_\d+)?|Missing|to_text|str|_remember"
        r"|get|join|strftime|isoformat|upper|lower|strip|ljust)$"
    )
    names = (*code.co_names, *code.co_varnames)
    assert all(generated.match(name) for name in names), names
    assert set(code.co_consts) <= {None, ""}
    literal = HOSTILE.replace("{{", "{")
    assert render(None) == f"{literal}); exit() #{literal}02/01/2026__import__"


@pytest.mark.parametrize(
    "value", ["{0}", "{__class__}", "{order.id.__class__.__mro__}", "%(x)s", "{{", "}"]
)
def test_values_are_inserted_verbatim(value: str) -> None:
    assert render("<{customer.name}>", **{"customer.name": value}) == f"<{value}>"


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("{0}", "0"),
        ("{__class__}", "__class__"),
        ("{customer.__class__}", "customer.__class__"),
        ("{order.reference.__init__.__globals__}", "order.reference.__init__.__globals__"),
        ("{0.__class__}", "0.__class__"),
    ],
)
def test_format_style_fields_are_unknown_fields(template: str, field: str) -> None:
    source = _ruleset(f'    label "{template}"\n')
    diagnostics = postingrules.check_source(source, "t.rules").diagnostics
    assert [(d.code, d.message) for d in diagnostics] == [
        ("unknown-field", f"unknown field `{field}`")
    ]
    with pytest.raises(postingrules.RulesError):
        postingrules.compile_source(source, "t.rules")


def test_a_format_spec_is_not_a_python_format_spec() -> None:
    diagnostics = postingrules.check_source(
        _ruleset('    label "{order.reference:>10}"\n'), "t.rules"
    ).diagnostics
    assert [d.code for d in diagnostics] == ["bad-format"]


# ---- through a compiled ruleset ---------------------------------------------------------------


def _ruleset(sale_extra: str = "", length: int = 8, customer: str = '"411000"') -> str:
    return f"""\
currency EUR
tolerance 0.05
account length {length}
journal VTE "Ventes"
customer account {customer} aux "CLIENTWEB" name "CLIENT WEB"
vat by (tax.rate) {{
    20 -> sales "707", tax "44571", code "C{{tax.rate}}"
    *  -> refuse "taux {{tax.rate}} inconnu"
}}
sale {{
    journal VTE
    date invoice.date else order.date
{sale_extra}}}
"""


def _document(name: str, **changes: Any) -> Any:
    raw = parse_json((ROOT / "examples" / "sales" / name).read_bytes())
    for dotted, value in changes.items():
        target = raw
        *parents, last = dotted.split("__")
        for part in parents:
            target = target[part]
        target[last] = value
    doc = validate(raw, name)
    assert not hasattr(doc, "reason"), doc
    return doc


def test_templates_render_in_an_entry() -> None:
    rules = postingrules.compile_source(
        _ruleset(
            '    piece "{invoice.number}"\n'
            '    reference "Web {order.id} - {customer.name|default(\\"invité\\")|upper}"\n'
            '    label "Cde {order.reference} du {order.date:%d/%m/%Y} {{web}}"\n'
        ),
        "t.rules",
    )
    entry = rules.post(_document("fr-vat-20.json"))
    assert isinstance(entry, Entry), entry
    assert (entry.piece, entry.reference, entry.label) == (
        "FA000123",
        "Web 1042 - CAMILLE DURAND",
        "Cde KXWTQZRAB du 12/01/2026 {web}",
    )
    assert {line.tax_code for line in entry.lines} == {None, "C20"}
    assert entry.total_debit == entry.total_credit


def test_missing_value_in_a_document_is_a_refusal_not_an_exception() -> None:
    rules = postingrules.compile_source(_ruleset('    label "{customer.company}"\n'), "t.rules")
    result = rules.post(_document("fr-vat-20.json"))
    assert isinstance(result, Refusal)
    assert result.reason == (
        "field `customer.company` is empty: the label template of the `sale` block needs it"
    )


def test_own_customer_account_from_a_template_is_padded() -> None:
    rules = postingrules.compile_source(
        _ruleset(customer='"C{customer.id:06}"', length=10), "t.rules"
    )
    entry = rules.post(_document("fr-vat-20.json"))
    assert isinstance(entry, Entry), entry
    assert entry.lines[0].account == "C002317000"
    assert entry.lines[0].aux == "CLIENTWEB"
    assert {line.account for line in entry.lines[1:]} == {"7070000000", "4457100000"}


def test_templated_account_longer_than_the_length_is_refused_not_truncated() -> None:
    rules = postingrules.compile_source(
        _ruleset(customer='"C{customer.id:06}"', length=6), "t.rules"
    )
    result = rules.post(_document("fr-vat-20.json"))
    assert isinstance(result, Refusal)
    assert result.reason == 'account "C002317" has 7 characters, more than the account length 6'


# ---- account normalisation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "length", "expected"),
    [
        ("411", 8, "41100000"),
        ("411000", 8, "41100000"),
        ("41100000", 8, "41100000"),
        ("709", 10, "7090000000"),
        ("445", 3, "445"),
        ("  512 ", 6, "512000"),
        ("C2317", 8, "C2317000"),
        ("411", None, "411"),
        ("4110000000000", None, "4110000000000"),
    ],
)
def test_accounts_are_padded_on_the_right(number: str, length: int | None, expected: str) -> None:
    assert normalise_account(number, length) == expected


@pytest.mark.parametrize(("number", "length"), [("411000000", 8), ("7090000000", 6), ("4457", 3)])
def test_longer_accounts_are_an_error_never_truncated(number: str, length: int) -> None:
    with pytest.raises(AccountError) as info:
        normalise_account(number, length)
    assert str(info.value) == (
        f'account "{number}" has {len(number)} characters, more than the account length {length}'
    )


@pytest.mark.parametrize("number", ["", "   "])
def test_empty_account_is_an_error(number: str) -> None:
    with pytest.raises(AccountError, match="renders empty"):
        normalise_account(number, 8)


def test_constant_accounts_are_normalised_at_compile_time() -> None:
    rules = postingrules.compile_source(_ruleset(), "t.rules")
    entry = rules.post(_document("fr-vat-20.json"))
    assert isinstance(entry, Entry)
    assert [line.account for line in entry.lines] == ["41100000", "70700000", "44571000"]
