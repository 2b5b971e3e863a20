"""Parser and checker, driven by a table: rule snippet → every diagnostic it must produce.

Each case is checked through the public ``postingrules.check_source`` and compared with the
*full* list of diagnostics (code, severity, line, column, verbatim message, hint), so a
spurious extra diagnostic fails as surely as a missing one.  Most snippets are appended to a
small valid prelude (currency, tolerance, journal, customer account, vat table, sale block) so
that each isolates one problem; their lines are counted from the first line of the snippet.

Cases marked ``bug`` document a defect in ``src/`` (the expected tuple is the *fixed*
behaviour, the case is a strict xfail); ``test_codes_and_positions`` still checks their code
and position as they are today, so every code stays covered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import postingrules
from postingrules.dsl.diagnostics import Diagnostic
from postingrules.dsl.parse import parser

SRC = Path(postingrules.__file__).parent / "dsl"

PRELUDE = """\
currency EUR
tolerance 0.05
account length 8
journal VTE "Ventes"
customer account "411000" aux "CLIENTWEB" name "CLIENT WEB"
vat by (tax.rate) {
    20 -> sales "707000", tax "445710", code "C20"
    *  -> refuse "taux {tax.rate} inconnu"
}
sale {
    journal VTE
    date invoice.date else order.date
}
"""
P = PRELUDE.count("\n")  # snippet line n is file line P + n
VAT_LINE = PRELUDE.splitlines().index("vat by (tax.rate) {") + 1

Expected = tuple[str, str, int, int, str, str | None]

HEADER_ONLY = "currency EUR\ntolerance 0\n"
NO_DOCUMENTS: Expected = (
    "no-documents",
    "warning",
    1,
    1,
    "the rule file posts nothing: it has no `sale`, `refund` or `payment` block",
    None,
)
MISSING_VAT: Expected = (
    "missing-table",
    "error",
    1,
    1,
    "sales or refunds are posted but there is no `vat by (…)` table",
    'add e.g. `vat by (tax.country, tax.rate) { FR, 20 -> sales "707200", tax "445720" }`',
)
LINE_FIELD_HINT = (
    "line fields (tax.rate, tax.country, line.*) work in `vat by (…)` keys and outputs"
)
FILTERS = "filters are upper, lower, trim, truncate, pad, default"
REGIME_RULES = """\
regime {
    billing.country == FR -> france
    * -> oss
}
"""


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    expected: list[Expected]
    prelude: bool = True
    bug: str | None = None  # a defect in src/: `expected` is the fixed behaviour


CASES: list[Case] = [
    # ---- syntax (parse.py) -------------------------------------------------------------------
    Case(
        "syntax-missing-comma-between-outputs",
        'payment by payment.method {\n    * -> bank "512000" fees "627800"\n}',
        [
            (
                "syntax-error",
                "error",
                2,
                29,
                'unexpected string `"627800"`; expected ",", "->"',
                "separate the outputs of a row with commas",
            )
        ],
    ),
    Case(
        "syntax-fat-arrow",
        'payment by payment.method {\n    * => bank "512000"\n}',
        [("syntax-error", "error", 2, 7, 'unexpected "=" `=`; expected ",", "->"', None)],
    ),
    Case(
        "syntax-single-equals",
        'rule "r" when order.status = "paid" { sales "1" }',
        [
            (
                "syntax-error",
                "error",
                1,
                28,
                'unexpected "=" `=`; expected ")", "->", "{", a comparison (== != < <= > >=), a name',
                None,
            )
        ],
    ),
    Case(
        "syntax-unquoted-rule-name",
        "rule r when order.status { }",
        [
            (
                "syntax-error",
                "error",
                1,
                6,
                "unexpected name `r`; expected a string",
                'write it as a quoted string: "r"',
            )
        ],
    ),
    Case(
        "syntax-unquoted-account-number",
        "discount 709000",
        [
            (
                "syntax-error",
                "error",
                1,
                10,
                "unexpected number `709000`; expected a name, a string",
                None,
            )
        ],
    ),
    Case(
        "syntax-setting-outside-block",
        'piece "{invoice.number}"',
        [
            (
                "syntax-error",
                "error",
                1,
                7,
                'unexpected string `"{invoice.number}"`; expected "by"',
                None,
            )
        ],
    ),
    Case(
        "syntax-commas-in-set",
        "set X = {FR,DE}",
        [
            (
                "syntax-error",
                "error",
                1,
                12,
                'unexpected "," `,`; expected "}", a name, a number, a string',
                None,
            )
        ],
    ),
    Case(
        "syntax-keys-without-comma",
        'customer by (payment.method billing.country) {\n    *, * -> account "411"\n}',
        [
            (
                "syntax-error",
                "error",
                1,
                29,
                'unexpected name `billing.country`; expected ")", ","',
                "separate the keys with commas: (payment.method, billing.country)",
            )
        ],
    ),
    Case(
        "unexpected-character-single-quote",
        "journal 'BQ1'",
        [
            (
                "unexpected-character",
                "error",
                1,
                9,
                'unexpected character "\'"',
                "strings are written between double quotes",
            )
        ],
    ),
    Case(
        "unexpected-character-guillemet",
        "journal BQ1 « Banque »",
        [
            (
                "unexpected-character",
                "error",
                1,
                13,
                "unexpected character '«'",
                "strings are written between double quotes",
            )
        ],
    ),
    Case(
        "unexpected-character-curly-quote",
        "journal BQ1 “Banque”",
        [
            (
                "unexpected-character",
                "error",
                1,
                13,
                "unexpected character '“'",
                "strings are written between double quotes",
            )
        ],
    ),
    Case(
        "unexpected-character-other",
        "set X = {FR} @",
        [("unexpected-character", "error", 1, 14, "unexpected character '@'", None)],
    ),
    Case(
        "unexpected-end-unclosed-table",
        'payment by payment.method {\n    * -> bank "512000"',
        [
            (
                "unexpected-end",
                "error",
                2,
                23,
                'the file ends too early; expected "}", "*", ",", a name, a number, a string',
                "a block opened with `{` is missing its `}`",
            )
        ],
    ),
    Case(
        "unexpected-end-unclosed-block",
        "refund {\n    journal VTE\n    date refund.date",
        [
            (
                "unexpected-end",
                "error",
                3,
                21,
                'the file ends too early; expected "}", "analytic", "code", "customer", "date", '
                '"discount", "gap", "gift", …',
                "a block opened with `{` is missing its `}`",
            )
        ],
    ),
    Case(
        "unexpected-end-no-open-block",
        'ruleset "x" version',
        [
            (
                "unexpected-end",
                "error",
                1,
                20,
                "the file ends too early; expected a string",
                None,
            )
        ],
    ),
    # ---- header --------------------------------------------------------------------------------
    Case(
        "duplicate-setting",
        "currency USD",
        [
            (
                "duplicate-setting",
                "error",
                1,
                1,
                "this header setting is already given",
                "the first is at line 1; keep one",
            )
        ],
    ),
    Case(
        "unsupported-version",
        "requires postingrules 2",
        [
            (
                "unsupported-version",
                "error",
                1,
                23,
                "this rule file requires postingrules 2, but this is postingrules 1",
                None,
            )
        ],
    ),
    Case(
        "unknown-currency",
        "currency EURO\ntolerance 0\n",
        [
            NO_DOCUMENTS,
            (
                "unknown-currency",
                "error",
                1,
                10,
                "`EURO` is not an ISO 4217 currency code",
                "did you mean `EUR`?",
            ),
        ],
        prelude=False,
    ),
    Case(
        "unknown-currency-lower-case",
        "currency eur\ntolerance 0\n",
        [
            NO_DOCUMENTS,
            (
                "unknown-currency",
                "error",
                1,
                10,
                "`eur` is not an ISO 4217 currency code",
                "did you mean `EUR`?",
            ),
        ],
        prelude=False,
    ),
    Case(
        "bad-account-length-too-small",
        HEADER_ONLY + "account length 2\n",
        [
            NO_DOCUMENTS,
            (
                "bad-account-length",
                "error",
                3,
                16,
                "account length must be a whole number from 3 to 13, not 2",
                None,
            ),
        ],
        prelude=False,
    ),
    Case(
        "bad-account-length-fraction",
        HEADER_ONLY + "account length 8.5\n",
        [
            NO_DOCUMENTS,
            (
                "bad-account-length",
                "error",
                3,
                16,
                "account length must be a whole number from 3 to 13, not 8.5",
                None,
            ),
        ],
        prelude=False,
    ),
    Case(
        "missing-currency-and-tolerance",
        'ruleset "Boutique" version "1"\n',
        [
            (
                "missing-currency",
                "error",
                1,
                1,
                "the rule file does not say its currency",
                "add `currency EUR`",
            ),
            (
                "missing-tolerance",
                "error",
                1,
                1,
                "the rule file does not declare its rounding tolerance",
                "add e.g. `tolerance 0.05`; gaps above it are refused, below it go to the gap accounts",
            ),
            NO_DOCUMENTS,
        ],
        prelude=False,
    ),
    # ---- declarations --------------------------------------------------------------------------
    Case(
        "duplicate-journal",
        'journal VTE "Autre"',
        [("duplicate-journal", "error", 1, 9, "journal `VTE` is declared twice", None)],
    ),
    Case(
        "duplicate-name-account",
        'account REMISE "709000"\naccount REMISE "709100"',
        [("duplicate-name", "error", 2, 9, "account `REMISE` is declared twice", None)],
    ),
    Case(
        "duplicate-name-set",
        "set EU = {FR DE}\nset EU = {FR}",
        [("duplicate-name", "error", 2, 5, "set `EU` is declared twice", None)],
    ),
    Case(
        "duplicate-name-let-shadows-field",
        "let order.id = customer.id",
        [("duplicate-name", "error", 1, 5, "`order.id` is already defined", None)],
    ),
    Case(
        "set-shadows-country",
        "set FR = {FR MC}",
        [
            (
                "set-shadows-country",
                "warning",
                1,
                5,
                "set `FR` has the name of a country code",
                "rename it so that `FR` in a table means the country, not the set",
            )
        ],
    ),
    Case(
        "unknown-set",
        "set X = EU2 + {FR}",
        [
            (
                "unknown-set",
                "error",
                1,
                9,
                "unknown set `EU2`",
                "declare it with `set NAME = {…}` before use",
            )
        ],
    ),
    Case(
        "unknown-set-did-you-mean",
        "set EU = {FR DE}\nset X = EUU + {DE}",
        [("unknown-set", "error", 2, 9, "unknown set `EUU`", "did you mean `EU`?")],
    ),
    Case(
        "unknown-country-hints",
        "set X = {UK EL fr ZZ}",
        [
            (
                "unknown-country",
                "error",
                1,
                10,
                "`UK` is not a country code or a set",
                "the United Kingdom is GB in ISO 3166 (XI for Northern Ireland)",
            ),
            (
                "unknown-country",
                "error",
                1,
                13,
                "`EL` is not a country code or a set",
                "Greece is GR in ISO 3166 (EL is only its VAT prefix)",
            ),
            (
                "unknown-country",
                "error",
                1,
                16,
                "`fr` is not a country code or a set",
                "write it in upper case: `FR`",
            ),
            (
                "unknown-country",
                "error",
                1,
                19,
                "`ZZ` is not a country code or a set",
                "country codes are ISO 3166 alpha-2, upper case (DE, BE, GB)",
            ),
        ],
    ),
    Case(
        "unknown-country-in-comparison",
        'rule "r" when billing.country == XX { sales "1" }',
        [
            (
                "unknown-country",
                "error",
                1,
                34,
                "`XX` is not a country code or a set",
                "country codes are ISO 3166 alpha-2, upper case (DE, BE, GB)",
            )
        ],
    ),
    Case(
        "unknown-country-and-number-in-country-column",
        'customer by billing.country {\n    fr -> account "411"\n    3  -> account "411"\n'
        '    *  -> account "411"\n}',
        [
            (
                "unknown-country",
                "error",
                2,
                5,
                "`fr` is not a country code or a set",
                "write it in upper case: `FR`",
            ),
            ("type-mismatch", "error", 3, 5, "this column expects a country code or set", None),
        ],
    ),
    # ---- types ---------------------------------------------------------------------------------
    Case(
        "type-mismatch-date-vs-number",
        'rule "r" when order.date == 20 { sales "1" }',
        [
            (
                "type-mismatch",
                "error",
                1,
                15,
                "cannot compare a date with an amount",
                "write dates as 2026-01-31",
            )
        ],
    ),
    Case(
        "type-mismatch-date-vs-quoted-date",
        'rule "r" when order.date > "2026-01-01" { sales "1" }',
        [
            (
                "type-mismatch",
                "error",
                1,
                15,
                "cannot compare a date with a text",
                "write dates as 2026-01-31",
            )
        ],
    ),
    Case(
        "bad-date-literal",
        'rule "r" when order.date > 2026-13-45 { sales "1" }',
        [
            (
                "bad-date",
                "error",
                1,
                28,
                "`2026-13-45` is not a valid date",
                "write dates as 2026-01-31",
            )
        ],
    ),
    Case(
        "type-mismatch-let-mixes-types",
        "let d = shipping.country else order.date",
        [
            (
                "type-mismatch",
                "error",
                1,
                1,
                "`let d` mixes values of different types (country, date)",
                "each alternative after `else` must have the same type",
            )
        ],
    ),
    Case(
        "type-mismatch-is-valid-on-date",
        'rule "r" when order.date is valid { sales "1" }',
        [
            (
                "type-mismatch",
                "error",
                1,
                15,
                "`is valid` checks VAT numbers: use it on a text field",
                None,
            )
        ],
    ),
    Case(
        "type-mismatch-numbers-in-set",
        'rule "r" when billing.country in {1 2} { sales "1" }',
        [("type-mismatch", "error", 1, 34, "numbers in a set compared with a text value", None)],
    ),
    Case(
        "type-mismatch-date-setting",
        "refund {\n    journal VTE\n    date refund.number\n}",
        [("type-mismatch", "error", 3, 10, "`refund.number` is a text, not a date", None)],
    ),
    Case(
        "type-mismatch-quoted-journal-unquoted-account",
        'payment by payment.method {\n    * -> journal "VTE", bank 512000\n}',
        [
            (
                "type-mismatch",
                "error",
                2,
                18,
                "a journal is named without quotes, e.g. `journal BQ1`",
                None,
            ),
            ("type-mismatch", "error", 2, 30, "an account number is written in quotes", None),
        ],
    ),
    Case(
        "type-mismatch-unquoted-text-output",
        'customer by payment.method {\n    * -> account "411", aux CB\n}',
        [("type-mismatch", "error", 2, 29, "output `aux` is text: quote it", None)],
    ),
    Case(
        "type-mismatch-text-column",
        'customer by payment.method {\n    card -> account "411"\n    2    -> account "411"\n'
        '    *    -> account "411"\n}',
        [
            (
                "type-mismatch",
                "error",
                2,
                5,
                "`card` is a name but this column holds text",
                'quote it: "card"',
            ),
            ("type-mismatch", "error", 3, 5, "this column expects text", None),
        ],
    ),
    Case(
        "type-mismatch-rate-column",
        'customer by exchange_rate {\n    "x" -> account "411"\n    *   -> account "411"\n}',
        [("type-mismatch", "error", 2, 5, "this column expects a number", None)],
    ),
    Case(
        "bad-operator",
        'rule "r" when order.status < "paid" { sales "1" }',
        [("bad-operator", "error", 1, 15, "`<` compares dates and amounts, not a text", None)],
    ),
    # ---- fields --------------------------------------------------------------------------------
    Case(
        "unknown-field-did-you-mean",
        'rule "r" when order.referense { sales "1" }',
        [
            (
                "unknown-field",
                "error",
                1,
                15,
                "unknown field `order.referense`",
                "did you mean `order.reference`?",
            )
        ],
    ),
    Case(
        "unknown-field-in-account-template",
        'rule "own" when customer.id {\n    customer account "C{customer.idd:06}"\n}',
        [
            (
                "unknown-field",
                "error",
                2,
                25,
                "unknown field `customer.idd`",
                "did you mean `customer.id`?",
            )
        ],
    ),
    Case(
        "unknown-field-positional-format",
        'analytic "{0}"',
        [("unknown-field", "error", 1, 12, "unknown field `0`", None)],
    ),
    Case(
        "unknown-field-dunder",
        'analytic "{__class__}"',
        [("unknown-field", "error", 1, 12, "unknown field `__class__`", None)],
    ),
    Case(
        "unknown-field-attribute-walk",
        'analytic "{order.reference.__class__}"',
        [
            (
                "unknown-field",
                "error",
                1,
                12,
                "unknown field `order.reference.__class__`",
                "did you mean `order.reference`?",
            )
        ],
    ),
    Case(
        "line-field-in-rule",
        'rule "r" when tax.rate == 20 { sales "1" }',
        [
            (
                "line-field",
                "error",
                1,
                15,
                '`tax.rate` belongs to a document line and cannot be used in rule "r"',
                LINE_FIELD_HINT,
            )
        ],
    ),
    Case(
        "line-field-in-template",
        'analytic "{tax.rate}"',
        [
            (
                "line-field",
                "error",
                1,
                12,
                "`tax.rate` belongs to a document line and cannot be used in an analytic section",
                LINE_FIELD_HINT,
            )
        ],
    ),
    Case(
        "line-field-in-regime",
        "regime {\n    tax.rate == 20 -> reduced\n    * -> normal\n}",
        [
            (
                "line-field",
                "error",
                2,
                5,
                "`tax.rate` belongs to a document line and cannot be used in the regime table",
                LINE_FIELD_HINT,
            )
        ],
    ),
    Case(
        "field-not-available-in-payment-block",
        'payment by payment.method { * -> bank "512000" }\npayment {\n    date refund.date\n}',
        [
            (
                "field-not-available",
                "error",
                3,
                10,
                "`refund.date` is not available for payment documents",
                None,
            )
        ],
    ),
    Case(
        "field-not-available-for-sales",
        'analytic "{payment.id}"',
        [
            (
                "field-not-available",
                "error",
                1,
                12,
                "`payment.id` is not available for refund, sale documents",
                None,
            )
        ],
    ),
    # ---- templates (template.py, reported by check.py) -------------------------------------
    Case(
        "template-syntax-unclosed",
        'analytic "{order.reference"',
        [
            (
                "template-syntax",
                "error",
                1,
                11,
                "a `{` is never closed in an analytic section",
                "close the field with `}`",
            )
        ],
    ),
    Case(
        "template-syntax-lone-close",
        'analytic "a } b"',
        [
            (
                "template-syntax",
                "error",
                1,
                13,
                "a `}` closes no `{` in an analytic section",
                "write `}}` for a literal brace",
            )
        ],
    ),
    Case(
        "template-syntax-empty-field",
        'analytic "{}"',
        [
            (
                "template-syntax",
                "error",
                1,
                11,
                "empty field `{}` in template in an analytic section",
                "name a field, e.g. {order.reference}",
            )
        ],
    ),
    Case(
        "unknown-filter",
        'analytic "{order.reference|shout}"',
        [
            (
                "unknown-filter",
                "error",
                1,
                28,
                f"unknown filter `shout`; {FILTERS} in an analytic section",
                None,
            )
        ],
    ),
    Case(
        "unknown-filter-did-you-mean",
        'analytic "{order.reference|truncat(3)}"',
        [
            (
                "unknown-filter",
                "error",
                1,
                28,
                f"unknown filter `truncat(3)`; {FILTERS} in an analytic section",
                "did you mean `truncate`?",
            )
        ],
    ),
    Case(
        "bad-filter-argument-truncate",
        'analytic "{order.reference|truncate}"',
        [
            (
                "bad-filter-argument",
                "error",
                1,
                28,
                "filter `truncate` needs a length, e.g. truncate(20) in an analytic section",
                None,
            )
        ],
    ),
    Case(
        "bad-filter-argument-default",
        'analytic "{order.reference|default}"',
        [
            (
                "bad-filter-argument",
                "error",
                1,
                28,
                'filter `default` needs a quoted text, e.g. default("-") in an analytic section',
                None,
            )
        ],
    ),
    Case(
        "bad-filter-argument-upper",
        'analytic "{order.reference|upper(3)}"',
        [
            (
                "bad-filter-argument",
                "error",
                1,
                28,
                "filter `upper` takes no argument in an analytic section",
                None,
            )
        ],
    ),
    Case(
        "bad-filter-argument-pad-not-a-number",
        'analytic "{order.reference|pad(x)}"',
        [
            (
                "bad-filter-argument",
                "error",
                1,
                28,
                "filter `pad` needs a length, e.g. pad(20) in an analytic section",
                None,
            )
        ],
    ),
    Case(
        "default-argument-with-bar",
        'analytic "{order.reference|default(\\"a|b\\")}"',
        [],
    ),
    Case(
        "template-column-after-escaped-quotes",
        'analytic "{customer.name|default(\\"x\\")} {order.referense}"',
        [
            (
                "unknown-field",
                "error",
                1,
                43,
                "unknown field `order.referense`",
                "did you mean `order.reference`?",
            )
        ],
    ),
    Case(
        "bad-format-width-on-date",
        'analytic "{order.date:06}"',
        [
            (
                "bad-format",
                "error",
                1,
                12,
                "`06` is not a date format; use strftime codes such as %d/%m/%Y",
                None,
            )
        ],
    ),
    Case(
        "bad-format-date-on-text",
        'analytic "{order.reference:%Y}"',
        [("bad-format", "error", 1, 12, "`%Y` is a date format but the field is not a date", None)],
    ),
    Case(
        "bad-format-not-a-width",
        'analytic "{order.reference:abc}"',
        [
            (
                "bad-format",
                "error",
                1,
                12,
                "`abc` is not a width; write 06 to zero-pad to 6 characters or 6 to pad with spaces",
                None,
            )
        ],
    ),
    # ---- accounts and journals -----------------------------------------------------------------
    Case(
        "bad-account",
        'discount "70-9/0"',
        [
            (
                "bad-account",
                "error",
                1,
                10,
                '"70-9/0" is not an account number',
                "use letters and digits only",
            )
        ],
    ),
    Case(
        "account-too-long",
        'discount "709000000"',
        [
            (
                "account-too-long",
                "error",
                1,
                10,
                'account "709000000" has 9 characters but `account length` is 8',
                "accounts are padded to the length, never truncated: shorten the number",
            )
        ],
    ),
    Case(
        "account-too-long-named",
        'account REMISE "709000000"',
        [
            (
                "account-too-long",
                "error",
                1,
                16,
                'account "709000000" has 9 characters but `account length` is 8',
                "accounts are padded to the length, never truncated: shorten the number",
            )
        ],
    ),
    Case(
        "unknown-account",
        "discount REMISE",
        [
            (
                "unknown-account",
                "error",
                1,
                10,
                "unknown account name `REMISE`",
                'write the number in quotes ("REMISE") or declare `account REMISE "…"`',
            )
        ],
    ),
    Case(
        "unknown-account-did-you-mean",
        'account REMISE "709000"\ndiscount REMISES',
        [
            (
                "unknown-account",
                "error",
                2,
                10,
                "unknown account name `REMISES`",
                "did you mean `REMISE`?",
            )
        ],
    ),
    Case(
        "unknown-journal",
        "refund {\n    journal VTX\n    date refund.date\n}",
        [("unknown-journal", "error", 2, 13, "unknown journal `VTX`", "did you mean `VTE`?")],
    ),
    # ---- document blocks -----------------------------------------------------------------------
    Case(
        "missing-date",
        "refund {\n    journal VTE\n}",
        [
            (
                "missing-date",
                "error",
                1,
                1,
                "the `refund` block does not say which date to post on",
                "add e.g. `date invoice.date else order.date`",
            )
        ],
    ),
    Case(
        "missing-journal",
        "refund {\n    date refund.date\n}",
        [
            (
                "missing-journal",
                "error",
                1,
                1,
                "the `refund` block does not name its journal",
                "add `journal VTE`",
            )
        ],
    ),
    Case(
        "duplicate-block",
        "sale {\n    journal VTE\n    date order.date\n}",
        [("duplicate-block", "error", 1, 1, "the `sale` block is declared twice", None)],
    ),
    # ---- regime ----------------------------------------------------------------------------------
    Case(
        "regime-without-table",
        'rule "r" when regime == france { sales "1" }',
        [
            (
                "missing-table",
                "error",
                1,
                15,
                "`regime` is used but the rule file has no `regime { … }` table",
                "declare the regime table that decides domestic, oss, export…",
            )
        ],
    ),
    Case(
        "unknown-regime-in-condition",
        REGIME_RULES + 'rule "r" when regime == frnce { sales "1" }',
        [("unknown-regime", "error", 5, 25, "unknown regime `frnce`", "did you mean `france`?")],
    ),
    Case(
        "unknown-regime-in-table",
        REGIME_RULES
        + 'customer by regime {\n    frnce -> account "411"\n    *     -> account "411"\n}',
        [
            (
                "unknown-regime",
                "error",
                6,
                5,
                "unknown regime `frnce`; the regime table gives france, oss",
                "did you mean `france`?",
            )
        ],
    ),
    Case(
        "regime-missing-wildcard",
        "regime {\n    billing.country == FR -> france\n}",
        [
            (
                "missing-wildcard",
                "warning",
                1,
                1,
                "the regime table has no `*` row: a document matching no row is refused",
                "add `* -> <regime>` as the last row",
            )
        ],
    ),
    Case(
        "regime-unreachable-row",
        "regime {\n    * -> oss\n    billing.country == FR -> france\n}",
        [
            (
                "unreachable-row",
                "warning",
                3,
                5,
                "this row can never match: the `*` row above always wins",
                f"move it above line {P + 2}",
            )
        ],
    ),
    Case(
        "regime-declared-twice",
        "regime { * -> a }\nregime { * -> b }",
        [("duplicate-table", "error", 2, 1, "the regime table is declared twice", None)],
    ),
    Case(
        "regime-in-a-set-of-regimes",
        REGIME_RULES + 'rule "r" when regime in {france oss} { sales "1" }',
        [],
    ),
    # ---- decision tables -------------------------------------------------------------------------
    Case(
        "duplicate-row",
        'payment by payment.method {\n    "card" -> bank "512000"\n    "card" -> bank "512100"\n'
        '    *      -> bank "512000"\n}',
        [
            (
                "duplicate-row",
                "warning",
                3,
                5,
                f"this row repeats line {P + 2} of table `payment`",
                "the first row wins; delete one of them",
            )
        ],
    ),
    Case(
        "unreachable-row-after-wildcard",
        'payment by payment.method {\n    *      -> bank "512000"\n    "card" -> bank "512100"\n}',
        [
            (
                "unreachable-row",
                "warning",
                3,
                5,
                f"this row can never match: line {P + 2} matches everything it matches",
                "first match wins: move the more specific row above the general one",
            )
        ],
    ),
    Case(
        "unreachable-row-covered-by-set",
        'set EU = {FR DE}\ncustomer by billing.country {\n    EU -> account "411"\n'
        '    DE -> account "412"\n    *  -> account "411"\n}',
        [
            (
                "unreachable-row",
                "warning",
                4,
                5,
                f"this row can never match: line {P + 3} matches everything it matches",
                "first match wins: move the more specific row above the general one",
            )
        ],
    ),
    Case(
        "missing-wildcard-two-keys",
        'customer by (payment.method, billing.country) {\n    "card", FR -> account "411"\n}',
        [
            (
                "missing-wildcard",
                "warning",
                1,
                1,
                "table `customer` has no all-`*` row: a document matching no row is refused",
                'add a last row such as `*, * -> refuse "…"` to say why',
            )
        ],
    ),
    Case(
        "missing-wildcard-one-key",
        'payment by payment.method {\n    "card" -> bank "512000"\n}',
        [
            (
                "missing-wildcard",
                "warning",
                1,
                1,
                "table `payment` has no all-`*` row: a document matching no row is refused",
                'add a last row such as `* -> refuse "…"` to say why',
            )
        ],
    ),
    Case(
        "unknown-table",
        'shipment by payment.method {\n    * -> bank "512000"\n}',
        [
            (
                "unknown-table",
                "error",
                1,
                1,
                "unknown table `shipment`; tables are customer, payment, vat",
                "did you mean `payment`?",
            )
        ],
    ),
    Case(
        "duplicate-table",
        'vat by (tax.rate) {\n    * -> sales "707000"\n}',
        [
            (
                "duplicate-table",
                "error",
                1,
                1,
                "table `vat` is declared twice",
                f"the first is at line {VAT_LINE}",
            )
        ],
    ),
    Case(
        "row-arity",
        'payment by payment.method {\n    "card", 1 -> bank "512000"\n    * -> bank "512000"\n}',
        [
            (
                "row-arity",
                "error",
                2,
                5,
                "this row has 2 value(s) but table `payment` has 1 key(s)",
                "keys: payment.method",
            )
        ],
    ),
    Case(
        "unknown-output",
        'payment by payment.method {\n    * -> bank "512000", bonk "1"\n}',
        [
            (
                "unknown-output",
                "error",
                2,
                25,
                "table `payment` has no output `bonk`; outputs are journal, bank, fees",
                "did you mean `bank`?",
            )
        ],
    ),
    Case(
        "duplicate-output",
        'payment by payment.method {\n    * -> bank "512000", bank "512100"\n}',
        [("duplicate-output", "error", 2, 25, "output `bank` is given twice in this row", None)],
    ),
    Case(
        "missing-output",
        "payment by payment.method {\n    * -> journal VTE\n}",
        [
            (
                "missing-output",
                "error",
                2,
                5,
                "this row of table `payment` does not give `bank`",
                'add `bank "…"` or make the row `refuse "…"`',
            )
        ],
    ),
    # ---- whole file ------------------------------------------------------------------------------
    Case(
        "missing-table-vat",
        'currency EUR\ntolerance 0.05\njournal VTE\ncustomer account "411"\n'
        "refund {\n    journal VTE\n    date refund.date\n}\n",
        [MISSING_VAT],
        prelude=False,
    ),
    Case(
        "missing-table-payment",
        "payment {\n    date payment.date\n}",
        [
            (
                "missing-table",
                "error",
                1,
                1,
                "payments are posted but there is no `payment by payment.method { … }` table",
                None,
            )
        ],
    ),
    Case(
        "missing-customer",
        'currency EUR\ntolerance 0.05\njournal VTE\nvat by (tax.rate) {\n    * -> sales "707"\n}\n'
        "sale {\n    journal VTE\n    date order.date\n}\n",
        [
            (
                "missing-customer",
                "error",
                1,
                1,
                "no customer account is declared",
                'add `customer account "411000" aux "CLIENTWEB" name "CLIENT WEB"`',
            )
        ],
        prelude=False,
    ),
    Case("no-documents", HEADER_ONLY, [NO_DOCUMENTS], prelude=False),
    Case(
        "duplicate-rule",
        'rule "r" when order.status { sales "1" }\nrule "r" when order.status { sales "2" }',
        [("duplicate-rule", "error", 2, 6, 'rule "r" is declared twice', None)],
    ),
    Case(
        "duplicate-test",
        'test "t" {\n    given "examples/sales/fr-vat-20.json"\n}\n'
        'test "t" {\n    given "examples/sales/fr-vat-10.json"\n}',
        [("duplicate-test", "error", 4, 6, 'test "t" is declared twice', None)],
    ),
    Case(
        "missing-file",
        'test "t" {\n    given "nowhere.json"\n}',
        [
            (
                "missing-file",
                "warning",
                2,
                11,
                'test "t": file "nowhere.json" not found',
                "paths are relative to the rule file",
            )
        ],
    ),
    Case(
        "test-expectations-checked",
        'test "t" {\n    given "examples/sales/fr-vat-20.json"\n    expect regime france\n'
        "    expect journal VTX\n}",
        [
            ("unknown-regime", "error", 3, 19, "unknown regime `france`", None),
            ("unknown-journal", "error", 4, 20, "unknown journal `VTX`", "did you mean `VTE`?"),
        ],
    ),
    # ---- valid snippets: no diagnostic at all ----------------------------------------------------
    Case(
        "valid-own-customer-account",
        'rule "Client avec code" when customer.id {\n'
        '    customer account "C{customer.id:06}" aux "{customer.id}" name "{customer.name|upper}"\n'
        "}",
        [],
        prelude=True,
    ),
    Case(
        "valid-customer-by-payment-method",
        'customer by payment.method {\n    "card" -> account "411100", aux "CB", name "CLIENTS CB"\n'
        '    *      -> account "411000"\n}',
        [],
    ),
    Case(
        "valid-templates",
        'analytic "{{WEB}} {order.reference|trim|truncate(10)|pad(10)} {customer.id:6}"',
        [],
    ),
    Case(
        "valid-conditions",
        'rule "r" when billing.country == "FR" and total.incl > 100 and exchange_rate < 1.5\n'
        '    and order.date >= 2026-01-01 and not customer.vat_number is valid { sales "1" }',
        [],
    ),
]


def _source(case: Case) -> str:
    return PRELUDE + case.source + "\n" if case.prelude else case.source


def _offset(case: Case) -> int:
    return P if case.prelude else 0


def _actual(case: Case) -> list[Expected]:
    checked = postingrules.check_source(_source(case), "t.rules")
    offset = _offset(case)
    return [
        (d.code, d.severity, d.span.line - offset, d.span.column, d.message, d.hint)
        for d in checked.diagnostics
    ]


def _params(with_bugs: bool) -> list[object]:
    params: list[object] = []
    for case in CASES:
        marks = []
        if case.bug and with_bugs:
            marks.append(pytest.mark.xfail(strict=True, reason=case.bug))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def test_prelude_is_clean() -> None:
    assert postingrules.check_source(PRELUDE, "t.rules").diagnostics == []


def test_table_is_large_and_ids_unique() -> None:
    assert len(CASES) >= 45
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", _params(with_bugs=True))
def test_diagnostics(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parents[1])  # `given` paths resolve from the repository
    assert _actual(case) == case.expected


# Today's code and position for every case, the known-bad ones included: the bug cases whose
# fix changes the code or the position are listed here with what src/ emits now.
_CURRENT_FOR_BUGS: dict[str, list[tuple[str, str, int, int]]] = {}


@pytest.mark.parametrize("case", _params(with_bugs=False))
def test_codes_and_positions(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parents[1])
    actual = [a[:4] for a in _actual(case)]
    expected = _CURRENT_FOR_BUGS.get(case.id, [e[:4] for e in case.expected])
    assert actual == expected


def _emitted_codes() -> set[str]:
    codes: set[str] = set()
    for name in ("check.py", "parse.py", "template.py"):
        text = (SRC / name).read_text("utf-8")
        codes |= set(re.findall(r'"([a-z]+(?:-[a-z]+)+)"', text))
    return codes


def test_every_emitted_code_is_in_the_table() -> None:
    covered = {e[0] for c in CASES for e in c.expected} | {
        code for current in _CURRENT_FOR_BUGS.values() for code, *_ in current
    }
    emitted = _emitted_codes()
    assert len(emitted) >= 40
    assert emitted - covered == set()


def test_every_diagnostic_is_located(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parents[1])
    seen = 0
    for case in CASES:
        for d in postingrules.check_source(_source(case), "shop.rules").diagnostics:
            assert isinstance(d, Diagnostic)
            assert d.span.file == "shop.rules", case.id
            assert d.span.line >= 1 and d.span.column >= 1, (case.id, d)
            assert d.span.end_line >= d.span.line, (case.id, d)
            assert d.message.strip() and "\n" not in d.message, (case.id, d)
            seen += 1
    assert seen >= 80


BROKEN = [
    "vat by (tax.rate) {",
    'vat by (tax.rate) { 20 -> sales "1" tax "2" }',
    'rule "r" when { }',
    "rule",
    "currency",
    "set X = {FR} + ",
    "regime { billing.country == -> x }",
    'test "t" { given "a.json" expect "411" debt 1 }',
    "sale { journal }",
    'customer by (a b) { * -> account "1" }',
    "}",
    "account length eight",
    'label "x"',
    "tolerance 0.05 0.01",
]
_LARK_NAMES = {t.name for t in parser().terminals}


@pytest.mark.parametrize("text", BROKEN)
def test_syntax_messages_speak_the_users_words(text: str) -> None:
    diagnostics = postingrules.check_source(PRELUDE + text + "\n", "t.rules").diagnostics
    assert [d.code for d in diagnostics] in (["syntax-error"], ["unexpected-end"])
    d = diagnostics[0]
    assert d.span.line > P and d.span.column >= 1
    for shown in (d.message, d.hint or ""):
        assert "__ANON" not in shown and "$END" not in shown
        outside_quotes = re.sub(r"`[^`]*`|\"[^\"]*\"", "", shown)
        assert not set(re.findall(r"\b[A-Z_]{2,}\b", outside_quotes)) & _LARK_NAMES, shown


def test_several_errors_are_reported_at_once() -> None:
    source = (
        "currency EUR\ntolerance 0.05\ncurrency EUR\nrequires postingrules 3\naccount length 20\n"
        'discount "bad account"\nsale { journal VTX }\n'
    )
    checked = postingrules.check_source(source, "t.rules")
    assert [(d.code, d.span.line) for d in checked.diagnostics] == [
        ("missing-customer", 1),
        ("missing-table", 1),
        ("duplicate-setting", 3),
        ("unsupported-version", 4),
        ("bad-account-length", 5),
        ("bad-account", 6),
        ("missing-date", 7),
        ("unknown-journal", 7),
    ]
    assert len(checked.errors) == 8


def test_compile_source_raises_with_every_error() -> None:
    source = PRELUDE + 'discount "70-9/0"\ngap loss REMISE gain "758000000"\n'
    with pytest.raises(postingrules.RulesError) as info:
        postingrules.compile_source(source, "t.rules")
    assert [d.code for d in info.value.diagnostics] == [
        "bad-account",
        "unknown-account",
        "account-too-long",
    ]
    rendered = info.value.render()
    assert f"t.rules:{P + 1}:10: error[bad-account]" in rendered
    assert "^" in rendered and "hint: use letters and digits only" in rendered


def test_customer_table_inside_a_rule_compiles() -> None:
    source = PRELUDE + (
        'rule "Par mode" when order.status {\n'
        '    customer by payment.method { * -> account "411100" }\n'
        "}\n"
    )
    assert postingrules.check_source(source, "t.rules").diagnostics == []
    ruleset = postingrules.compile_source(source, "t.rules")
    assert ruleset.plan.rules[0].changes["customer"].name == "customer"
