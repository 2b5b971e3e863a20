"""The customisable text export ("Format des écritures" of the product sheet) and its profiles.

Most merchants reach their accountant's desktop software (EBP, Sage, Ciel, Cegid, Quadratus…)
through a text file whose layout that software's import screen expects.  Rather than one
hand-written writer per product, a :class:`TextProfile` declares the layout — which fields in
which order, separated or fixed-width, quoting, decimal mark, date pattern, encoding, header
line, account padding, label truncation, file-name templates — and one writer renders any
profile.  The predefined layouts (``layouts.py``) are profiles too, so a user can start from
"EBP" and change one thing in a small TOML file (:func:`load_profile`).

Debit and credit are fields like any other: ``debit`` + ``credit`` gives two columns,
``signed_amount`` one signed column, ``amount`` + ``sense`` an amount and D/C.

Nothing is silently broken: a value longer than its column is truncated only where the profile
says so (labels, by default) and is otherwise refused with :class:`FormatError` naming the entry
and field; so are an account with letters in a numeric-only layout and a foreign-currency line
in a layout without a currency column (unless ``foreign_currency = "ignore"``) and an amount
with more decimals than the two written (rounding it could unbalance the file).  Text fields
of separated layouts are formula-neutralised (leading apostrophe; a plain number such as the
sense ``+1`` is left as it is); every field is made to fit the encoding before padding, so a
fixed-width column never shifts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Literal

from postingrules.files import FileNameTemplate
from postingrules.formats.base import (
    FORMULA_PREFIXES,
    Format,
    FormatError,
    OptionError,
    Transcoder,
    clean_text,
    did_you_mean,
    is_formula,
    unbalanced,
)
from postingrules.formats.chart import Chart
from postingrules.model.entries import Entry, EntryLine

FieldKind = Literal["text", "code", "amount", "date", "number", "literal"]

# name -> (kind, description).  "code" values are identifiers (accounts, journals): never
# truncated; "text" values are labels: truncated when the profile allows it.
LINE_FIELDS: dict[str, tuple[FieldKind, str]] = {
    "journal": ("code", "journal code (after journal_map)"),
    "journal_label": ("text", "journal label"),
    "date": ("date", "entry date"),
    "due_date": ("date", "due date (the entry date: documents carry no due date yet)"),
    "piece": ("code", "piece (invoice / credit-note) number"),
    "reference": ("text", "document reference"),
    "label": ("text", "entry label"),
    "line_label": ("text", "line label"),
    "account": ("code", "general account (padded per account_padding)"),
    "account_label": (
        "text",
        "auxiliary name (or code) on third-party lines, else the "
        "account's name (account_labels, else the PCG's), else the line label",
    ),
    "aux": ("code", "auxiliary (third-party) account, blank if none"),
    "aux_name": ("text", "auxiliary account name"),
    "account_or_aux": ("code", "the auxiliary account if any, else the general account"),
    "debit": ("amount", "debit amount (0 on credit lines)"),
    "credit": ("amount", "credit amount (0 on debit lines)"),
    "amount": ("amount", "unsigned amount, with `sense`"),
    "signed_amount": ("amount", "debit positive, credit negative"),
    "amount_cents": ("number", "unsigned amount in cents, no decimal mark"),
    "sense": ("code", "sense_debit or sense_credit (D / C)"),
    "currency": ("code", "the entry's (book) currency"),
    "currency_amount": ("amount", "signed amount in the foreign currency, blank if none"),
    "line_currency": ("code", "the foreign currency, blank if none"),
    "tax_code": ("code", "tax code of the line"),
    "tax_rate": ("number", "tax rate in percent"),
    "analytic": ("code", "analytic code"),
    "payment_method": ("code", "payment method of the entry"),
    "document_key": ("code", "document key (traceability to the shop)"),
    "document_kind": ("code", "sale, refund or payment"),
    "entry_number": ("number", "1, 2, 3… per entry in the file"),
    "line_number": ("number", "1, 2, 3… per line in the file"),
    "literal": ("literal", "the column's fixed `value`"),
}

CUSTOMER_FIELDS: dict[str, tuple[FieldKind, str]] = {
    "aux": ("code", "auxiliary (customer) account"),
    "aux_name": ("text", "customer name"),
    "account": ("code", "collective account the auxiliary belongs to (e.g. 411000)"),
    "currency": ("code", "currency of the first entry referencing the customer"),
    "date": ("date", "date of the first entry referencing the customer"),
    "document_key": ("code", "first document referencing the customer"),
    "literal": ("literal", "the column's fixed `value`"),
    # From the entry's party: set only for a personal auxiliary account (see Entry.party).
    "name": ("text", "customer's name as the shop has it"),
    "company": ("text", "customer's company"),
    "email": ("text", "customer's e-mail"),
    "vat_number": ("code", "customer's intra-EU VAT number"),
    "street": ("text", "billing street"),
    "postcode": ("code", "billing postcode"),
    "city": ("text", "billing city"),
    "country": ("code", "billing country (ISO 3166 alpha-2)"),
}

PARTY_FIELDS = ("name", "company", "email", "vat_number", "street", "postcode", "city", "country")

FILE_KINDS = ("sales", "refunds", "payments", "customers")

LINE_ENDINGS = ("\r\n", "\n", "\r")
"""Record ends the ledgers read (as the FEC's: CR and/or LF); anything else would be read as
text inside the last field."""

Truncate = Literal["error", "right", "left"]


@dataclass(frozen=True)
class Column:
    """One field of a layout: what it holds and, for fixed width, how it is laid out.

    ``width`` is the column width of a fixed-width layout and the maximum length in a separated
    one.  ``truncate`` says what to do with a longer value: ``error`` (refuse), ``right`` (keep
    the start) or ``left`` (keep the end); unset, labels follow the profile's
    ``truncate_labels`` and everything else is refused.
    """

    field: str
    value: str = ""
    width: int | None = None
    align: Literal["left", "right"] = "left"
    pad: str = " "
    date_format: str | None = None
    header: str | None = None
    quoted: bool = False
    truncate: Truncate | None = None


@dataclass(frozen=True)
class TextProfile:
    """A complete text layout.  ``separator=None`` or ``""`` means fixed width (every column
    has a width): ``""`` is how a TOML profile, which has no null, says it; it is stored as
    None."""

    name: str = "text"
    columns: tuple[Column, ...] = ()
    separator: str | None = ";"
    quoting: Literal["minimal", "all", "none"] = "minimal"
    quote_char: str = '"'
    decimal_mark: str = ","
    date_format: str = "%d/%m/%Y"
    encoding: str = "utf-8"
    on_unencodable: Literal["transliterate", "refuse"] = "transliterate"
    line_ending: str = "\r\n"
    header: bool = False
    sense_debit: str = "D"
    sense_credit: str = "C"
    account_padding: int | None = None
    account_pad_char: str = "0"
    numeric_accounts: bool = False
    label_max: int | None = None
    truncate_labels: bool = True
    journal_map: Mapping[str, str] = field(default_factory=dict)
    account_labels: Mapping[str, str] = field(default_factory=dict)
    """The merchant's account names (account -> name) for ``account_label`` (see Chart)."""
    foreign_currency: Literal["error", "ignore"] = "error"
    neutralise_formulas: bool = True
    file_names: Mapping[str, str] = field(default_factory=dict)
    kind: Literal["entries", "customers"] = "entries"
    verified: bool = False
    """True once a real import into the target software has accepted this layout."""

    def __post_init__(self) -> None:
        if self.separator == "":
            object.__setattr__(self, "separator", None)  # frozen: the one normalisation
        catalogue = CUSTOMER_FIELDS if self.kind == "customers" else LINE_FIELDS
        if not self.columns:
            raise OptionError(f"profile {self.name!r}: no columns")
        for number, col in enumerate(self.columns, 1):
            if col.field not in catalogue:
                raise OptionError(
                    f"profile {self.name!r}: unknown field {col.field!r}"
                    f"{did_you_mean(col.field, catalogue)}"
                )
            if self.separator is None and not col.width:
                raise OptionError(
                    f"profile {self.name!r}: fixed-width column {number} ({col.field!r}) "
                    "needs a width"
                )
            if len(col.pad) != 1:
                raise OptionError(f"profile {self.name!r}: pad must be one character")
        if self.separator is not None and self.separator in "\r\n":
            raise OptionError(f"profile {self.name!r}: bad separator {self.separator!r}")
        if self.line_ending not in LINE_ENDINGS:
            raise OptionError(
                f"profile {self.name!r}: line_ending must be CRLF, LF or CR "
                f"('\\r\\n', '\\n', '\\r'), not {self.line_ending!r}"
            )
        for account, label in self.account_labels.items():
            if not (isinstance(account, str) and isinstance(label, str)):
                raise OptionError(
                    f"profile {self.name!r}: account_labels maps account to name as strings, "
                    f"not {account!r} = {label!r}"
                )
        if self.separator is not None and self.separator == self.quote_char:
            raise OptionError(f"profile {self.name!r}: separator and quote_char are the same")
        if self.quoting not in ("minimal", "all", "none"):
            raise OptionError(f"profile {self.name!r}: quoting must be minimal, all or none")
        if self.decimal_mark not in (".", ","):
            raise OptionError(f"profile {self.name!r}: decimal_mark must be '.' or ','")
        if self.foreign_currency not in ("error", "ignore"):
            raise OptionError(f"profile {self.name!r}: foreign_currency must be error or ignore")
        Transcoder(self.encoding, self.on_unencodable)  # checks both
        for kind, template in self.file_names.items():
            if kind not in FILE_KINDS:
                raise OptionError(
                    f"profile {self.name!r}: file_names has no kind {kind!r}"
                    f"{did_you_mean(kind, FILE_KINDS)} (kinds: {', '.join(FILE_KINDS)})"
                )
            FileNameTemplate(template)

    @property
    def fixed_width(self) -> bool:
        return self.separator is None

    def has_field(self, name: str) -> bool:
        return any(col.field == name for col in self.columns)


# --- profile files (TOML) ------------------------------------------------------------------

PROFILE_KEYS = tuple(f.name for f in fields(TextProfile))
COLUMN_KEYS = tuple(f.name for f in fields(Column))


def profile_from_mapping(
    data: Mapping[str, Any], base: TextProfile | None = None, where: str = "profile"
) -> TextProfile:
    """A profile from a mapping (TOML table or options), on top of ``base`` if given.

    Unknown keys are :class:`OptionError` with a did-you-mean; columns may be field names or
    tables with :class:`Column`'s keys.
    """
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key not in PROFILE_KEYS:
            raise OptionError(f"{where}: unknown key {key!r}{did_you_mean(key, PROFILE_KEYS)}")
        if key == "columns":
            value = tuple(_column(c, f"{where}: columns[{i}]") for i, c in enumerate(value))
        elif key in ("journal_map", "file_names", "account_labels"):
            if not isinstance(value, Mapping):
                raise OptionError(f"{where}: {key} must be a table")
            value = dict(value)
        else:
            expected = {f.name: f.type for f in fields(TextProfile)}[key]
            _check_type(key, value, str(expected), where)
        changes[key] = value
    try:
        return TextProfile(**changes) if base is None else replace(base, **changes)
    except OptionError as err:
        raise OptionError(f"{where}: {err}") from None


def _check_type(key: str, value: Any, expected: str, where: str) -> None:
    """Check a TOML value against the field's annotation (``bool``, ``int | None``, ``str``…)."""
    if value is None and "None" in expected:
        return
    if expected == "bool":
        ok, what = isinstance(value, bool), "true or false"
    elif expected.startswith("int"):
        ok, what = isinstance(value, int) and not isinstance(value, bool), "an integer"
    else:
        ok, what = isinstance(value, str), "a string"
    if not ok:
        raise OptionError(f"{where}: {key} must be {what}")


def _column(spec: Any, where: str) -> Column:
    if isinstance(spec, str):
        return Column(field=spec)
    if isinstance(spec, Column):
        return spec
    if not isinstance(spec, Mapping):
        raise OptionError(f"{where}: a column is a field name or a table")
    for key in spec:
        if key not in COLUMN_KEYS:
            raise OptionError(f"{where}: unknown key {key!r}{did_you_mean(key, COLUMN_KEYS)}")
    if "field" not in spec:
        raise OptionError(f"{where}: a column table needs `field`")
    return Column(**spec)


def load_profile(path: str | Path) -> TextProfile:
    """Read a TOML profile: top-level keys of :class:`TextProfile`, plus ``base`` to start
    from a predefined layout (``base = "ebp"``).  Errors name the file and the key."""
    from postingrules.formats.layouts import LAYOUTS

    where = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise OptionError(f"{where}: {err}") from None
    base = None
    if "base" in data:
        base_name = data.pop("base")
        if base_name not in LAYOUTS:
            raise OptionError(
                f"{where}: unknown base layout {base_name!r}{did_you_mean(base_name, LAYOUTS)}"
            )
        base = LAYOUTS[base_name]
    return profile_from_mapping(data, base, where)


# --- writing ----------------------------------------------------------------------------------

_UNSET: Any = type("Unset", (), {"__repr__": lambda self: "<profile's value>"})()
"""Default of the profile-key options: "keep the profile's value" (None is a real value)."""

Getter = Callable[[Any, int], str]
"""Final value of a column: ``(entry, entry number)`` for an entry field (:data:`ENTRY_FIELDS`),
``(line, line number)`` for a line field."""
Finish = Callable[[str], str]
_Cache = dict[str, str]
_ZERO = Decimal(0)
_BATCH = 4096
"""Parts of rows (about 1,000 rows) rendered before one encode and one ``out.write``."""

ENTRY_FIELDS = frozenset((
    "journal", "journal_label", "date", "due_date", "piece", "reference", "label", "currency",
    "payment_method", "document_key", "document_kind", "entry_number", *PARTY_FIELDS,
))  # fmt: skip
"""Fields with one value per entry: rendered once, not once per line."""


class _Slow(Exception):
    """Raised by a layout's fast renderer for an entry it leaves to the exact one."""


_UNIQUE = frozenset(("piece", "reference", "label", "document_key"))
"""Entry fields whose values are new on almost every entry: not worth a cache."""


_CENT = Decimal("0.01")


def _past_cents(value: Decimal) -> bool:
    """Whether ``value`` has a digit other than 0 past the cents (``1.015``; not ``1.500``):
    two decimals (or cents) cannot write it, and rounding it could unbalance the file (1.015 D
    = 1.005 C + 0.01 C, rounded 1.02 D, 1.00 C + 0.01 C).  Only called off the two-decimal
    path."""
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent < -2 and value != value.quantize(_CENT)


def _past_cents_error(value: Decimal, field: str) -> FormatError:
    return FormatError(f"amount {value} has more than 2 decimals", field=field)


def _money(mark: str, field: str = "amount") -> Callable[[Decimal], str]:
    """``f"{value:.2f}"`` with ``mark`` as decimal mark, without Decimal's slow ``__format__``
    when the value already has two decimals (what amounts have): ``str`` gives the same text.
    A value with more decimals is refused (:func:`_past_cents`), as ``field``."""
    zero = f"0{mark}00"
    comma = mark != "."

    def money(value: Decimal) -> str:
        text = str(value)
        if text[-3:-2] != ".":  # not exactly two decimals in plain notation
            if text == "0":
                return zero
            if _past_cents(value):
                raise _past_cents_error(value, field)
            text = f"{value:.2f}"
        return text.replace(".", mark) if comma else text

    return money


def _money_attribute(name: str, mark: str) -> Getter:
    """The getter of an amount attribute (``debit``…) formatted as :func:`_money` does, in one
    Python call."""
    get = attrgetter(name)
    zero = f"0{mark}00"
    comma = mark != "."

    def money(x: Any, k: int) -> str:
        value = get(x)
        text = str(value)
        if text[-3:-2] != ".":
            if text == "0":
                return zero
            if _past_cents(value):
                raise _past_cents_error(value, name)
            text = f"{value:.2f}"
        return text.replace(".", mark) if comma else text

    return money


def _cents(value: Decimal) -> str:
    """``str(int(value * 100))`` for an amount ``value`` >= 0; with two decimals (what amounts
    have), the digits of ``str(value)`` without the point give it, faster.  A value with more
    decimals is refused (:func:`_past_cents`): ``int`` would truncate it."""
    text = str(value)
    if text[-3:-2] == "." and text[0] != "-":
        return text.replace(".", "").lstrip("0") or "0"
    if _past_cents(value):
        raise _past_cents_error(value, "amount_cents")
    return str(int(value * 100))


_ATTRIBUTES: dict[str, tuple[str, bool]] = {
    "piece": ("piece", False), "reference": ("reference", False), "label": ("label", False),
    "currency": ("currency", False), "document_key": ("document_key", False),
    "document_kind": ("document_kind", False), "payment_method": ("payment_method", True),
    "line_label": ("label", False), "aux": ("aux", True), "aux_name": ("aux_name", True),
    "line_currency": ("currency", True), "tax_code": ("tax_code", True),
    "analytic": ("analytic", True),
}  # fmt: skip
"""Fields that are an attribute of the entry or line as is (True: None written blank)."""

_LINE_KIND = frozenset(("account", "aux", "aux_name", "line_currency", "tax_code", "analytic"))
"""Line fields that repeat from line to line (a few accounts, no amounts nor labels)."""


def _line_kinds(
    compiled: list[tuple[int, Column, Finish | None, _Cache | None, Any]], plain_accounts: bool
) -> tuple[list[int], list[str]]:
    """The columns that depend only on the kind of line (account, auxiliary account…) and
    the line attributes they read, in column order: what the renderers cache by kind."""
    kinds = [idx for idx, col, _, _, _ in compiled
             if col.field in _LINE_KIND and (col.field != "account" or plain_accounts)]  # fmt: skip
    attrs = list(dict.fromkeys(_ATTRIBUTES.get(col.field, ("account",))[0]
                               for idx, col, _, _, _ in compiled if idx in kinds))  # fmt: skip
    return kinds, attrs


def _kind_key(attrs: list[str]) -> str:
    """The expression keying a cache by a line's kind: the first attribute alone when the
    others are None (no tuple to build and hash on most lines)."""
    first, *others = attrs
    if not others:
        return f"ln.{first}"
    alone = " and ".join(f"ln.{attr} is None" for attr in others)
    return f"ln.{first} if {alone} else ({', '.join(f'ln.{attr}' for attr in attrs)})"


def _core(parts: list[tuple[str, str]]) -> tuple[int, int]:
    """Where the pieces of a run start and end without its literals at either end."""
    ends = [k for k, (cls, _) in enumerate(parts) if cls != "L"]
    return (ends[0], ends[-1] + 1) if ends else (0, 0)


def _fuse_attribute(
    name: str, blank_none: bool, finish: Finish | None, cache: _Cache | None
) -> Getter:
    """:func:`_fuse` for a field that is an attribute: read in C, one Python call a value."""
    get = attrgetter(name)
    if finish is None:
        return (lambda x, k: get(x) or "") if blank_none else (lambda x, k: get(x))
    if cache is None:
        return lambda x, k: finish(get(x) or "" if blank_none else get(x))
    lookup = cache.get
    if blank_none:

        def fused_blank(x: Any, k: int) -> str:
            raw = get(x) or ""
            done = lookup(raw)
            return finish(raw) if done is None else done

        return fused_blank

    def fused(x: Any, k: int) -> str:
        raw = get(x)
        done = lookup(raw)
        return finish(raw) if done is None else done

    return fused


def _fuse(get: Getter, finish: Finish | None, cache: _Cache | None) -> Getter:
    """One function for a column: its raw value made final, the cache read inline."""
    if finish is None:
        return get
    if cache is None:
        return lambda x, k: finish(get(x, k))
    lookup = cache.get

    def fused(x: Any, k: int) -> str:
        raw = get(x, k)
        done = lookup(raw)
        return finish(raw) if done is None else done

    return fused


def _codec(encoding: str) -> tuple[str, bool]:
    """The codec to encode ASCII text with (``ascii`` when ``encoding`` writes ASCII as ASCII,
    its fast path), and whether text may be encoded in batches (False for codecs that start
    every encoded string with a byte-order mark: each entry is encoded alone, as always)."""
    sample = "".join(map(chr, range(128)))
    batchable = sample.encode(encoding) * 2 == (sample * 2).encode(encoding)
    ascii_safe = batchable and sample.encode(encoding) == sample.encode("ascii")
    return ("ascii" if ascii_safe else encoding), batchable


class TextExport(Format):
    """Any :class:`TextProfile`; the registered ``text`` format uses :data:`DEFAULT_PROFILE`.

    The profile is compiled once, at construction, into one function per column (raw value,
    cleaning, encoding, truncation, padding or quoting, with a cache of finished values) and a
    row template: entry fields fill it once per entry, line fields once per line.
    """

    name: ClassVar[str] = "text"
    summary: ClassVar[str] = "customisable text export (fields, separator, amounts, encoding…)"
    extension: ClassVar[str] = ".txt"
    layout: ClassVar[TextProfile]
    option_defaults: ClassVar[dict[str, Any]] = {
        "profile": None,
        "profile_file": None,
        **{key: _UNSET for key in PROFILE_KEYS},
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "layout" in cls.__dict__:  # declarative properties come from the layout
            _declare(cls, cls.layout)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        opts = self.options
        profile: TextProfile = opts["profile"] or self.layout
        if opts["profile_file"]:
            profile = load_profile(opts["profile_file"])
        overrides = {k: v for k, v in opts.items() if k in PROFILE_KEYS and v is not _UNSET}
        if overrides:
            profile = profile_from_mapping(overrides, profile, f"format {self.name!r} options")
        expected = "customers" if self.layout.kind == "customers" else "entries"
        if profile.kind != expected:
            raise OptionError(f"format {self.name!r} needs a profile of kind {expected!r}")
        self.profile = profile
        self._chart = Chart(profile.account_labels)
        self._account_names: dict[str, str] = {}  # account -> its name, "" for none
        _declare(self, profile)
        self._transcoder = Transcoder(profile.encoding, profile.on_unencodable)
        self._codec, self._batchable = _codec(self._transcoder.encoding)
        catalogue = CUSTOMER_FIELDS if profile.kind == "customers" else LINE_FIELDS
        self._joiner = profile.separator or ""
        self._const_row: list[str] = []
        self._entry_cols: list[tuple[int, Getter]] = []
        self._line_cols: list[tuple[int, Getter]] = []
        self._cols: list[tuple[int, bool, Getter]] = []  # every field, in column order
        compiled: list[tuple[int, Column, Finish | None, _Cache | None, Getter]] = []
        for idx, col in enumerate(profile.columns):
            kind = catalogue[col.field][0]
            finish, cache = self._finisher(col, kind)
            if kind == "literal":
                self._const_row.append(finish(col.value) if finish else col.value)
                continue
            self._const_row.append("")
            if col.field in _ATTRIBUTES:
                getter = _fuse_attribute(*_ATTRIBUTES[col.field], finish, cache)
            elif col.field == "account" and not (profile.numeric_accounts
                                                 or profile.account_padding):  # fmt: skip
                getter = _fuse_attribute("account", False, finish, cache)
            else:
                getter = self._fused(col, finish, cache) or _fuse(self._getter(col), finish, cache)
            per_entry = col.field in ENTRY_FIELDS
            (self._entry_cols if per_entry else self._line_cols).append((idx, getter))
            self._cols.append((idx, per_entry, getter))
            compiled.append((idx, col, finish, cache, getter))
        if profile.kind == "entries":
            self._render, self._write_all = self._compile_render(compiled)

    # -- the compiled row renderer ------------------------------------------------------------

    def _compile_render(
        self, compiled: list[tuple[int, Column, Finish | None, _Cache | None, Getter]]
    ) -> tuple[Callable[[Entry, int, int, Callable[[str], None]], int], Callable[..., int]]:
        """One function rendering an entry's rows: ``render(entry, entry number, last line
        number, append) -> last line number``, each row passed to ``append``; an entry
        that does not balance raises :class:`FormatError` once its rows are passed.  And
        the writing loop ``write_all(entries, rows, slow, flush, limit) -> entries
        written``, which renders the usual entry faster (:meth:`_compile_fast`) and hands
        the others to ``slow`` (``render``, rows and errors as :meth:`write` wants them).

        Calling one Python function per field and line was most of the writer's time, so the
        layout is compiled into the source of a single function, in which the common fields
        (attributes, amounts, sense, numbers) are inline code and the others call their
        getter.  The source is built only from this module's own fragments, variable names and
        column indices: every profile value (separator, literals, marks, caches, functions)
        is bound in the function's namespace, never written into the source, so no layout or
        entry text can change the code.  Field errors propagate; :meth:`write` locates them.
        """
        p = self.profile
        mark = p.decimal_mark
        ns: dict[str, Any] = {
            "J": self._joiner, "M": mark, "Z": f"0{mark}00", "money": _money(mark), "cents": _cents,
            "past_cents": _past_cents, "FormatError": FormatError, "unbalanced": unbalanced,
        }  # fmt: skip
        plain_accounts = not (p.numeric_accounts or p.account_padding)
        uses_abs = any(col.field in ("amount", "amount_cents") for _, col, _, _, _ in compiled)
        # Only the line_number column reads the line number: without it, count per entry.
        numbered = any(col.field == "line_number" for _, col, _, _, _ in compiled)

        totalled: set[str] = set()  # the sides whose total a money column adds up

        def money(target: str, value: str) -> list[str]:
            """``target = money(value)``, zero (the other side of most lines) and the
            two-decimal case inline (indexing, not slicing: no slice object a line); the
            first debit (credit) column adds a non-zero amount to its side's total, which
            then needs no test of its own."""
            total = []
            if value in ("d", "c") and value not in totalled:
                totalled.add(value)
                total = [f"    t{value} = {value} if t{value} is None else t{value} + {value}"]
            code = [f"if not {value}:",
                    f"    {target} = money({value}) if {value}.is_signed() else Z",  # -0
                    "else:", *total, f"    {target} = str({value})",
                    f'    if len({target}) < 3 or {target}[-3] != ".":',
                    f"        {target} = money({value})"]  # fmt: skip
            if mark != ".":
                code += ["    else:", f'        {target} = {target}.replace(".", M)']
            return code

        entry_code: list[str] = []
        line_code: list[str] = []
        values: dict[int, str] = {}
        # The columns that depend only on the kind of line (account, auxiliary account…):
        # with two or more, their finished values are cached together by their attributes
        # (one look-up a line instead of one per column), `kind_code` run on a miss.
        line_kinds = _line_kinds(compiled, plain_accounts)
        kinds, attrs = line_kinds if len(line_kinds[1]) >= 2 else ([], [])
        kind_code: list[str] = []
        frags: dict[int, list[str]] = {}  # each column's code, setting its variable
        unique: dict[int, tuple[str, list[str], str, str]] = {}  # labels, pieces: see below
        # Labels and pieces the fast path writes bare: their pieces in the row, their code
        # and tests (as `frags` and `unique`) for the fast path
        bare: dict[int, list[tuple[str, str]]] = {}
        bare_code: dict[int, list[str]] = {}
        bare_unique: dict[int, tuple[str, list[str], str, str]] = {}
        dates: dict[Column, int] = {}  # date columns by layout, the first one's index

        def padded(idx: int, col: Column, var: str) -> list[tuple[str, str]]:
            """The pieces of a fixed-width entry value written bare: the value, and its
            padding `p<idx>` taken from a table by its length."""
            width = col.width or 0
            ns[f"PD{idx}"] = [col.pad * (width - k) for k in range(width + 1)]
            padding = ("E", f"p{idx}")
            return [("E", var), padding] if col.align == "left" else [padding, ("E", var)]

        for idx, col, finish, cache, getter in compiled:
            name = col.field
            per_entry = name in ENTRY_FIELDS
            x, k = ("e", "i") if per_entry else ("ln", "n")
            var = f"{'v' if per_entry else 'w'}{idx}"
            code = frags[idx] = []
            values[idx] = var
            raw: list[str] | None = None  # code setting `var` to the raw value
            if name in _ATTRIBUTES or (name == "account" and plain_accounts):
                attr, blank_none = _ATTRIBUTES.get(name, ("account", False))
                raw = [f'{var} = {x}.{attr} or ""' if blank_none else f"{var} = {x}.{attr}"]
            elif name in ("debit", "credit"):
                raw = money(var, name[0])
            elif name == "amount":
                raw = money(var, "a")
            elif name == "amount_cents":
                raw = [f"{var} = str(a)",
                       f'if len({var}) > 2 and {var}[-3] == "." and {var}[0] != "-":',
                       f'    {var} = {var}.replace(".", "").lstrip("0") or "0"',
                       "else:", f"    {var} = cents(a)"]  # fmt: skip
            elif name == "currency_amount":
                raw = [f"{var} = ln.currency_amount",
                       f'{var} = "" if {var} is None else money({var})']  # fmt: skip
            elif name in ("entry_number", "line_number"):
                raw = [f"{var} = str({k})"]
            elif name == "account_label":  # as its getter, the account's name read inline
                ns["AN"], ns["an"] = self._account_names, self._account_name
                raw = ["if ln.aux:", f"    {var} = ln.aux_name or ln.aux", "else:",
                       f"    {var} = AN.get(ln.account)", f"    if {var} is None:",
                       f"        {var} = an(ln.account)", f"    {var} = {var} or ln.label"]  # fmt: skip
            elif name == "journal":
                ns["JM"] = p.journal_map
                raw = [f"{var} = JM.get(e.journal, e.journal)"]
            elif name in ("date", "due_date"):  # finished text cached by date
                same = dates.setdefault(replace(col, field="date", header=None), idx)
                if same != idx:  # laid out as an earlier date column (EBP's due date): its text
                    values[idx] = values[same]
                    continue
                ns[f"g{idx}"], ns[f"dc{idx}"] = getter, {}
                code += [f"{var} = dc{idx}.get(e.date)", f"if {var} is None:",
                         f"    if len(dc{idx}) > 4096:", f"        dc{idx}.clear()",
                         f"    {var} = dc{idx}[e.date] = g{idx}(e, i)"]  # fmt: skip
                continue
            elif name == "sense":
                try:  # the two values, finished once; a line needing a refused one calls g
                    ns[f"D{idx}"], ns[f"C{idx}"] = (
                        finish(v) if finish else v for v in (p.sense_debit, p.sense_credit)
                    )
                    code.append(f"{var} = D{idx} if d >= c else C{idx}")
                    continue
                except FormatError:
                    pass
            if raw is None:
                ns[f"g{idx}"] = getter  # the column's own getter, finished value
                code.append(f"{var} = g{idx}({x}, {k})")
                continue
            code += raw
            if finish is None:
                continue
            ns[f"f{idx}"] = finish
            kind = LINE_FIELDS[name][0]
            limit = col.width
            if kind == "text" and p.label_max and (limit is None or p.label_max < limit):
                limit = p.label_max
            ns[f"L{idx}"] = sys.maxsize if limit is None else limit
            ns[f"W{idx}"], ns[f"P{idx}"] = col.width or 0, col.pad
            just = "rjust" if col.align == "right" else "ljust"
            if cache is None and p.separator is None:  # fixed-width number or amount
                code.append(f"{var} = {var}.{just}(W{idx}, P{idx}) if len({var}) <= L{idx} "
                            f"else f{idx}({var})")  # fmt: skip
                if per_entry:  # the entry number: padded by the fast path as labels are
                    bare[idx] = padded(idx, col, var)
                    bare_code[idx] = [*raw, f"if len({var}) <= L{idx}:",
                                      f"    p{idx} = PD{idx}[len({var})]", "else:",
                                      f"    {var} = f{idx}({var})", f'    p{idx} = ""']  # fmt: skip
                continue
            if cache is None:
                code.append(f"{var} = f{idx}({var})")
                continue
            ns[f"c{idx}"] = cache
            if name not in _UNIQUE:
                code += [f"r = c{idx}.get({var})", f"{var} = f{idx}({var}) if r is None else r"]
                continue
            # Values new on every entry (labels, pieces) miss any cache: the common case,
            # printable ASCII that fits and needs no quoting, is finished inline.
            fits = f"{var}.isascii() and {var}.isprintable()"
            if limit is not None:  # else no length to check
                fits += f" and len({var}) <= L{idx}"
            if p.separator is not None and kind in ("text", "code") and p.neutralise_formulas:
                # The first character in a set: str.startswith parses its arguments the
                # slow way (PyArg_ParseTuple), several times the cost.
                ns["FP"] = frozenset(FORMULA_PREFIXES)
                fits += f" and {var}[:1] not in FP"
            ns["Q"] = p.quote_char
            if p.separator is None:
                then, seps = f"{var} = {var}.{just}(W{idx}, P{idx})", ""
            elif p.quoting == "all" or col.quoted:
                then, seps = f"{var} = Q + {var} + Q", "Q"
            else:
                then, seps = "pass", "JQ"
            tests = "".join(f" and {c} not in {var}" for c in seps)
            code += [f"if {fits}{tests}:", f"    {then}", "else:", f"    {var} = f{idx}({var})"]
            # For _compile_fast: the raw value, the tests on the value alone, the separator
            # and quote tests, the finished value when all pass.
            unique[idx] = (raw[0], fits.split(" and ")[2:], seps, then)
            # The fast path leaves the value bare and writes around it, in the entry's
            # string, its quotes as literals (the finisher's `q + text + q` loses them) or
            # its padding from a table by length (a finished value has the full width): no
            # concatenation nor ljust, a new string each, an entry.
            if seps == "Q" and len(p.quote_char) == 1:
                q = ("L", p.quote_char)
                bare[idx] = [q, ("E", var), q]
                then, otherwise = "pass", [f"{var} = f{idx}({var})[1:-1]"]
            elif p.separator is None:
                bare[idx] = padded(idx, col, var)
                then = f"p{idx} = PD{idx}[len({var})]"
                otherwise = [f"{var} = f{idx}({var})", f'p{idx} = ""']
            else:
                continue
            bare_code[idx] = [*code[:2], f"    {then}", "else:", *(f"    {x}" for x in otherwise)]
            bare_unique[idx] = (*unique[idx][:3], then)

        for idx, col, _, _, _ in compiled:
            if col.field == "journal":  # finished once per journal code, not mapped and looked up
                ns[f"jc{idx}"], var = {}, values[idx]
                frags[idx] = [f"{var} = jc{idx}.get(e.journal)", f"if {var} is None:",
                              *(f"    {line}" for line in frags[idx]),
                              f"    if len(jc{idx}) > 4096:", f"        jc{idx}.clear()",
                              f"    jc{idx}[e.journal] = {var}"]  # fmt: skip
            if col.field in ENTRY_FIELDS:
                entry_code += frags[idx]
            else:
                (kind_code if idx in kinds else line_code).extend(frags[idx])
        entry_cols = [idx for idx, col, _, _, _ in compiled if col.field in ENTRY_FIELDS]
        entry_fast = self._checked_once(
            entry_cols, {**frags, **bare_code}, values, {**unique, **bare_unique}
        )
        fast = self._compile_fast(compiled, frags, values, entry_fast, ns, line_kinds, bare)
        if kinds:
            finished = ", ".join(values[idx] for idx in kinds)
            ns["LK"] = {}
            line_code[:0] = [
                f"lk = {_kind_key(attrs)}",
                "lt = LK.get(lk)",
                "if lt is None:",
                *(f"    {line}" for line in kind_code),
                "    if len(LK) > 4096:",
                "        LK.clear()",
                f"    LK[lk] = ({finished})",
                "else:",
                f"    {finished} = lt",
            ]  # fmt: skip

        # The row: runs of constants and entry values become one string per entry (`s<m>`),
        # joined per line with the line values.
        consts = self._const_row
        pieces: list[tuple[str, str | None]] = []  # (f-string part, its value if constant)
        for idx in range(len(consts)):
            if idx and self._joiner:
                pieces.append(("{J}", self._joiner))
            if idx in values:
                pieces.append(("{" + values[idx] + "}", None))
            else:
                ns[f"K{idx}"] = consts[idx]
                pieces.append((f"{{K{idx}}}", consts[idx]))
        row: list[str] = []
        run: list[tuple[str, str | None]] = []
        for part, value in [*pieces, ("", None)]:
            if part.startswith("{v") or value is not None:
                run.append((part, value))
                continue
            if run:
                seg = f"s{len(row)}"
                if all(v is not None for _, v in run):
                    ns[seg] = "".join(v for _, v in run if v is not None)
                else:
                    entry_code.append(f'{seg} = f"{"".join(c for c, _ in run)}"')
                row.append(f"{{{seg}}}")
                run = []
            row.append(part)
        refuse = p.foreign_currency == "error" and not p.has_field("currency_amount")
        loop = [
            *(["if ln.currency_amount is not None:",
               '    raise FormatError("foreign amount")'] if refuse else []),
            *(["n += 1"] if numbered else []),
            "d = ln.debit",
            "c = ln.credit",
            # Totals skip zeros and start from the first amount: adding costs.
            *([] if "d" in totalled else ["if d:", "    td = d if td is None else td + d"]),
            *([] if "c" in totalled else ["if c:", "    tc = c if tc is None else tc + c"]),
            # |d - c|, without a subtraction when a side is zero (the value is the same)
            *(["a = abs(c) if not d else abs(d) if not c else abs(d - c)"] if uses_abs else []),
            *line_code,
            f'append(f"{"".join(row)}")',
        ]  # fmt: skip
        source = "\n".join([
            "def render(e, i, n, append):",
            *(f"    {line}" for line in entry_code),
            "    td = tc = None",
            *([] if numbered else ["    n += len(e.lines)"]),
            "    for ln in e.lines:",
            *(f"        {line}" for line in loop),
            "    if td != tc and unbalanced(e.lines):",
            '        raise FormatError("unbalanced")',
            "    return n",
        ])  # fmt: skip
        exec(compile(source, f"<{p.name} rows>", "exec"), ns)  # the source: see the docstring
        # The writing loop: every entry through the fast path when the layout has one, the
        # entries it leaves (and all of them when there is none) through `slow`.
        ns["SLOW"] = _Slow
        source = "\n".join([
            "def write_all(entries, rows, slow, flush, limit):",
            "    extend = rows.extend",
            "    i = n = 0",
            "    for e in entries:",
            "        i += 1",
            *(["        start = len(rows)",
               *(["        first = n"] if numbered else []),
               "        try:",
               *(f"            {line}" for line in fast),
               "        except (SLOW, FormatError):",
               "            del rows[start:]",
               f"            n = slow(e, i, {'first' if numbered else 'n'})",
               "        except BaseException:",
               "            del rows[start:]  # no half entry in the file",
               "            raise"] if fast else ["        n = slow(e, i, n)"]),
            "        if len(rows) >= limit:",
            "            flush()",
            "    return i",
        ])  # fmt: skip
        exec(compile(source, f"<{p.name} writer>", "exec"), ns)  # built the same way
        return ns["render"], ns["write_all"]

    @staticmethod
    def _checked_once(
        entry_cols: list[int],
        frags: dict[int, list[str]],
        values: dict[int, str],
        unique: dict[int, tuple[str, list[str], str, str]],
    ) -> list[str]:
        """The entry fields' code with the labels and pieces (values new on every entry)
        checked together: one ``isascii``, ``isprintable`` and separator and quote test on
        their concatenation instead of one each; when one fails, each value is checked as
        in ``render``.  (A separator of several characters across two values only sends them
        to their own checks.)  The other entry fields come first: none reads these."""
        together = [idx for idx in entry_cols if idx in unique]
        if len(together) < 2:
            return [line for idx in entry_cols for line in frags[idx]]
        seps = sorted(set("".join(unique[idx][2] for idx in together)))
        tests = ["u.isascii()", "u.isprintable()", *(f"{c} not in u" for c in seps),
                 *(test for idx in together for test in unique[idx][1])]  # fmt: skip
        return [
            *(line for idx in entry_cols if idx not in unique for line in frags[idx]),
            *(unique[idx][0] for idx in together),
            f'u = f"{"".join(f"{{{values[idx]}}}" for idx in together)}"',
            f"if {' and '.join(tests)}:",
            *(f"    {unique[idx][3]}" for idx in together),
            "else:",
            *(f"    {line}" for idx in together for line in frags[idx][1:]),
        ]

    def _compile_fast(
        self,
        compiled: list[tuple[int, Column, Finish | None, _Cache | None, Getter]],
        frags: dict[int, list[str]],
        values: dict[int, str],
        entry_code: list[str],
        ns: dict[str, Any],
        line_kinds: tuple[list[int], list[str]],
        bare: dict[int, list[tuple[str, str]]],
    ) -> list[str] | None:
        """The body of the fast loop of :meth:`_compile_render` for one entry ``e``
        (number ``i``; line number ``n`` so far, then its last, counted only when a
        line_number column reads it), or None when the layout has no fast path.

        In the usual entry every line has one side zero and the other a plain amount with
        two decimals, no foreign amount, and nothing to refuse.  Then a line's row is
        known but for that amount and the line's kind (account, auxiliary account…): the
        columns of each side are laid out in advance, the constants, zero sides and senses
        merged with the kind's values into a few strings cached by kind, and a line joins
        these with the entry's parts and its amount.  Anything else (a zero line, a signed
        zero, an amount that is not two decimals, a refused value…) raises :class:`_Slow`
        or :class:`FormatError`, and :meth:`write` renders the entry again with ``render``,
        which is exact in every case.  Names are bound as in ``render``; the values in
        ``bare`` are left bare by ``entry_code`` and written as the pieces given there.
        """
        p = self.profile
        fields_ = {col.field for _, col, _, _, _ in compiled}
        kinds, attrs = line_kinds  # cached by kind here even when they read one attribute
        columns = {idx: (col, finish) for idx, col, finish, _, _ in compiled}
        # abs(), d - c and the sense need a positive amount to equal the amount's own text;
        # abs() and d - c round past the context's precision: a short amount does not.
        positive = bool(fields_ & {"amount", "amount_cents", "sense", "signed_amount"})
        bounded = bool(fields_ & {"amount", "amount_cents", "signed_amount"})
        mark = p.decimal_mark
        names: dict[str, str] = {}  # literal text -> its name in ns

        def literal(text: str) -> str:
            if text not in names:
                names[text] = f"N{len(names)}"
                ns[names[text]] = text
            return names[text]

        def finished(col: Column, finish: Finish | None, value: str) -> str:
            return finish(value) if finish else value  # FormatError: no fast path

        def finish_code(
            idx: int, col: Column, finish: Finish | None, raw: str
        ) -> tuple[list[str], list[tuple[str, str]]]:
            """The code making the amount or number text ``raw`` final, as ``render`` does,
            and the pieces of the final text."""
            if finish is None:
                return [], [("T", raw)]
            if p.separator is None and bounded:
                # At most 21 characters (see branch()): the padding from a table by length,
                # None where the value is too long (the exact renderer truncates or refuses).
                width = col.width or 0
                ns[f"PD{idx}"] = [col.pad * (width - k) if k <= width else None
                                  for k in range(22)]  # fmt: skip
                padding = ("T", f"p{idx}")
                return [f"p{idx} = PD{idx}[len({raw})]", f"if p{idx} is None:", "    raise SLOW"], (
                    [("T", raw), padding] if col.align == "left" else [padding, ("T", raw)]
                )
            ns[f"ff{idx}"], ns[f"fw{idx}"], ns[f"fp{idx}"] = finish, col.width or 0, col.pad
            ns[f"fl{idx}"] = sys.maxsize if col.width is None else col.width
            if p.separator is None:
                just = "rjust" if col.align == "right" else "ljust"
                return [f"x{idx} = {raw}.{just}(fw{idx}, fp{idx}) if len({raw}) <= fl{idx} "
                        f"else ff{idx}({raw})"], [("T", f"x{idx}")]  # fmt: skip
            return [f"x{idx} = ff{idx}({raw})"], [("T", f"x{idx}")]

        other_code: list[str] = []  # line columns computed the same on both sides
        tm = "tm" if mark != "." else "t"  # the amount with the layout's decimal mark
        sides: dict[str, tuple[list[tuple[str, str]], list[str]]] = {}
        tm_used = False
        cents: set[int] = set()  # the amount_cents columns
        # Those of them right-aligned in zeros: the zero of "0.xx" is kept, as padding.
        zero_padded: set[int] = set()
        try:
            for side in ("d", "c"):
                pieces: list[tuple[str, str]] = []  # (L literal | E entry | K kind | T line, …)
                code: list[str] = []
                for idx in range(len(self._const_row)):
                    if idx and self._joiner:
                        pieces.append(("L", self._joiner))
                    if idx not in values:
                        pieces.append(("L", self._const_row[idx]))
                        continue
                    col, finish = columns[idx]
                    name = col.field
                    if idx in bare:  # with its quotes or padding
                        pieces += bare[idx]
                    elif name in ENTRY_FIELDS:
                        pieces.append(("E", values[idx]))
                    elif idx in kinds:
                        pieces.append(("K", values[idx]))
                    elif name in ("debit", "credit") and name[0] != side:
                        pieces.append(("L", finished(col, finish, f"0{mark}00")))
                    elif name in ("debit", "credit", "amount") or (
                        name == "signed_amount" and side == "d"
                    ):
                        tm_used = tm_used or tm == "tm"
                        more, final = finish_code(idx, col, finish, tm)
                        code += more
                        pieces += final
                    elif name == "signed_amount":
                        tm_used = tm_used or tm == "tm"
                        code.append(f'y{idx} = "-" + {tm}')
                        more, final = finish_code(idx, col, finish, f"y{idx}")
                        code += more
                        pieces += final
                    elif name == "amount_cents":
                        cents.add(idx)  # y<idx>: see branch()
                        if p.separator is None and col.align == "right" and col.pad == "0":
                            zero_padded.add(idx)  # padded from a table: see finish_code()
                        more, final = finish_code(idx, col, finish, f"y{idx}")
                        code += more
                        pieces += final
                    elif name == "sense":
                        value = p.sense_debit if side == "d" else p.sense_credit
                        pieces.append(("L", finished(col, finish, value)))
                    elif name == "currency_amount":
                        pieces.append(("L", finished(col, finish, "")))
                    else:
                        if side == "d":
                            other_code += frags[idx]
                        pieces.append(("T", values[idx]))
                sides[side] = (pieces, code)
        except FormatError:
            return None
        # Runs of pieces of one kind (literals join the run they follow) become one value.
        kind_runs: dict[str, str] = {}  # f-string body -> variable, in the cached tuple
        entry_runs: dict[str, str] = {}  # f-string body -> variable
        rows: dict[str, str] = {}
        side_runs: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {}
        for side, (pieces, _) in sides.items():
            runs: list[tuple[str, list[tuple[str, str]]]] = []
            for cls, value in [*pieces, ("L", p.line_ending)]:  # rows are joined by ""
                joins = cls == "L" or (cls != "T" and runs[-1][0] in (cls, "L")) if runs else False
                if joins and runs[-1][0] != "T":
                    if cls != "L":
                        runs[-1] = (cls, runs[-1][1])
                    runs[-1][1].append((cls, value))
                else:
                    runs.append((cls, [(cls, value)]))
            side_runs[side] = runs
        # An entry run that differs between the sides only by the literals at its ends (a
        # sense, a zero amount) is built once: those literals become parts of their own.
        cores = {side: {tuple(parts[slice(*_core(parts))]): parts
                        for cls, parts in runs if cls == "E"}
                 for side, runs in side_runs.items()}  # fmt: skip
        for side, runs in side_runs.items():
            twins = cores["c" if side == "d" else "d"]
            split: list[tuple[str, list[tuple[str, str]]]] = []
            for cls, parts in runs:
                start, end = _core(parts)
                twin = twins.get(tuple(parts[start:end]), parts) if cls == "E" else parts
                if twin == parts:
                    split.append((cls, parts))
                    continue
                twin_start, twin_end = _core(twin)
                start = 0 if parts[:start] == twin[:twin_start] else start
                end = len(parts) if parts[end:] == twin[twin_end:] else end
                split += [("L", parts[:start])] if start else []
                split.append(("E", parts[start:end]))
                split += [("L", parts[end:])] if end < len(parts) else []
            side_runs[side] = split
        for side, runs in side_runs.items():
            row: list[str] = []
            for cls, parts in runs:
                body, text = "", ""  # literals merged into one name
                for part, value in [*parts, ("E", "")]:
                    if part == "L":
                        text += value
                        continue
                    if text:
                        body, text = body + f"{{{literal(text)}}}", ""
                    body += f"{{{value}}}" if value else ""
                if cls == "E" and len(parts) > 1:
                    row.append(entry_runs.setdefault(body, f"s{len(entry_runs)}"))
                elif cls == "K":
                    row.append(kind_runs.setdefault(body, f"k{len(kind_runs)}"))
                else:  # a value or a literal alone
                    row.append(body[1:-1])
            rows[side] = ", ".join(row) + ","  # a row's parts, extended to the batch
        entry_code += [f'{var} = f"{body}"' for body, var in entry_runs.items()]
        kind_code: list[str] = []
        if kind_runs:
            ns["FK"] = {}
            kind_vars = ", ".join(kind_runs.values())
            finished_runs = "".join(f'f"{body}", ' for body in kind_runs)
            kind_code = [
                f"lk = {_kind_key(attrs)}",
                "lt = FK.get(lk)",
                "if lt is None:",
                *(f"    {line}" for idx in kinds for line in frags[idx]),
                "    if len(FK) > 4096:",
                "        FK.clear()",
                f"    lt = FK[lk] = ({finished_runs})",
                f"{kind_vars}, = lt",
            ]  # fmt: skip
        refuse = p.foreign_currency == "error" or p.has_field("currency_amount")
        numbered = "line_number" in fields_

        def branch(side: str) -> list[str]:
            other = "c" if side == "d" else "d"
            zero_column = "credit" if side == "d" else "debit"
            # Under `if not c`, d may be zero too; under `elif not d`, c is not.
            zero = [*(["not d"] if side == "d" else []),
                    *([f"{other}.is_signed()"] if zero_column in fields_ else [])]  # fmt: skip
            # A negative amount's text is the only one sorting before "0" (it starts with
            # "-"; others with a digit or a letter): one comparison, no indexing.
            tests = [*(['t < "0"'] if positive else []),
                     *(["len(t) > 20"] if bounded else [])]  # fmt: skip
            return [
                *([f"    if {' or '.join(zero)}:", "        raise SLOW"] if zero else []),
                f"    t = str({side})",
                *([f"    if {' or '.join(tests)}:", "        raise SLOW"] if tests else []),
                # Not two decimals in plain notation (IndexError: shorter than 3 characters;
                # a try costs nothing, a length test a call): as _money does.
                "    try:",
                '        plain = t[-3] == "."',
                "    except IndexError:",
                "        plain = False",
                "    if not plain:",
                # A digit past the cents: refused by the exact renderer (see _past_cents)
                f"        if past_cents({side}):",
                "            raise SLOW",
                *(f"        y{idx} = cents({side})" for idx in sorted(cents)),
                f'        t = f"{{{side}:.2f}}"',
                # Fixed width and bounded: amount texts of 20 characters at most, 21 signed
                # (the padding tables of finish_code())
                *(["        if len(t) > 20:", "            raise SLOW"]
                  if bounded and p.separator is None else []),
                *(["    else:"] if cents else []),
                *(f'        y{idx} = t.replace(".", "")' if idx in zero_padded
                  else f'        y{idx} = t.replace(".", "").lstrip("0") or "0"'
                  for idx in sorted(cents)),
                f"    t{side} = {side} if t{side} is None else t{side} + {side}",
                *(['    tm = t.replace(".", M)'] if tm_used else []),
                *(f"    {line}" for line in sides[side][1]),
                f"    extend(({rows[side]}))",
            ]  # fmt: skip

        loop = [
            *(["if ln.currency_amount is not None:", "    raise SLOW"] if refuse else []),
            *(["n += 1"] if numbered else []),
            "d = ln.debit",
            "c = ln.credit",
            *kind_code,
            *other_code,
            "if not c:",
            *branch("d"),
            "elif not d:",
            *branch("c"),
            "else:",
            "    raise SLOW",
        ]
        return [
            *entry_code,
            "td = tc = None",
            "for ln in e.lines:",
            *(f"    {line}" for line in loop),
            "if td is None or td != tc:",  # None: no lines
            "    raise SLOW",
        ]  # without a line_number column, n is not read: not counted

    # -- field getters ----------------------------------------------------------------------

    def _fused(self, col: Column, finish: Finish | None, cache: _Cache | None) -> Getter | None:
        """Getters that finish their value themselves, one Python call a value fewer than
        :func:`_fuse` (the commonest computed fields), or None."""
        p = self.profile
        name = col.field
        if name in ("entry_number", "line_number") and finish is not None and cache is None:
            return lambda x, k: finish(str(k))
        if name == "amount_cents" and finish is not None and cache is None:

            def cents(ln: EntryLine, n: int) -> str:
                return finish(_cents(abs(ln.debit - ln.credit)))

            return cents
        if name == "sense":
            try:  # the two values, finished once; a refusal is raised when a line needs it
                debit_sense = finish(p.sense_debit) if finish else p.sense_debit
                credit_sense = finish(p.sense_credit) if finish else p.sense_credit
            except FormatError:
                return None
            return lambda ln, n: debit_sense if ln.debit >= ln.credit else credit_sense
        return None

    def _account_name(self, account: str) -> str:
        """``account``'s name for ``account_label`` (the profile's ``account_labels``, else
        the PCG's: :class:`~postingrules.formats.chart.Chart`), ``""`` when it has none;
        looked up once per account, the renderers reading ``_account_names`` first."""
        names = self._account_names
        name = names.get(account)
        if name is None:
            if len(names) > 4096:
                names.clear()
            name = names[account] = self._chart.label(account) or ""
        return name

    def _account(self, account: str) -> str:
        p = self.profile
        if p.numeric_accounts and not account.isdigit():
            raise FormatError(f"account {account!r} must be digits only in {p.name}",
                              field="account")  # fmt: skip
        if p.account_padding and len(account) < p.account_padding:
            account = account.ljust(p.account_padding, p.account_pad_char)
        return account

    def _getter(self, col: Column) -> Getter:
        """The raw value of ``col``: from ``(entry, entry number)`` for an entry field, from
        ``(line, line number)`` for a line field."""
        p = self.profile
        date_format = col.date_format or p.date_format
        journal_map = p.journal_map
        mark = p.decimal_mark
        money = _money(mark, col.field)
        account = self._account
        account_name = self._account_name
        plain_accounts = not (p.numeric_accounts or p.account_padding)
        sense_debit, sense_credit = p.sense_debit, p.sense_credit
        dates: dict[dt.date, str] = {}

        def date(e: Entry, i: int) -> str:
            text = dates.get(e.date)
            if text is None:
                if len(dates) > 4096:
                    dates.clear()
                text = dates[e.date] = e.date.strftime(date_format)
            return text

        getters: dict[str, Getter] = {
            # entry fields: (entry, entry number)
            "journal": lambda e, i: journal_map.get(e.journal, e.journal),
            "journal_label": lambda e, i: e.journal_label or e.journal,
            "date": date,
            "due_date": date,
            "piece": lambda e, i: e.piece,
            "reference": lambda e, i: e.reference,
            "label": lambda e, i: e.label,
            "currency": lambda e, i: e.currency,
            "payment_method": lambda e, i: e.payment_method or "",
            "document_key": lambda e, i: e.document_key,
            "document_kind": lambda e, i: e.document_kind,
            "entry_number": lambda e, i: str(i),
            **{name: _party_getter(name) for name in PARTY_FIELDS},
            # line fields: (line, line number)
            "line_label": lambda ln, n: ln.label,
            "account": (lambda ln, n: ln.account) if plain_accounts
            else (lambda ln, n: account(ln.account)),
            "account_label": lambda ln, n: (ln.aux_name or ln.aux)
            if ln.aux else (account_name(ln.account) or ln.label),
            "aux": lambda ln, n: ln.aux or "",
            "aux_name": lambda ln, n: ln.aux_name or "",
            "account_or_aux": lambda ln, n: ln.aux or account(ln.account),
            "debit": _money_attribute("debit", mark),
            "credit": _money_attribute("credit", mark),
            "amount": lambda ln, n: money(abs(ln.debit - ln.credit)),
            "signed_amount": lambda ln, n: money(ln.debit - ln.credit),
            "amount_cents": lambda ln, n: _cents(abs(ln.debit - ln.credit)),
            "sense": lambda ln, n: sense_debit if ln.debit >= ln.credit else sense_credit,
            "currency_amount": lambda ln, n: "" if ln.currency_amount is None
            else money(ln.currency_amount),
            "line_currency": lambda ln, n: ln.currency or "",
            "tax_code": lambda ln, n: ln.tax_code or "",
            "tax_rate": lambda ln, n: "" if ln.tax_rate is None
            else f"{ln.tax_rate:f}".replace(".", mark),
            "analytic": lambda ln, n: ln.analytic or "",
            "line_number": lambda ln, n: str(n),
        }  # fmt: skip
        return getters[col.field]

    # -- one field: clean, neutralise, encode, truncate, pad or quote --------------------------

    def _finisher(self, col: Column, kind: FieldKind) -> tuple[Finish | None, _Cache | None]:
        """A function making a raw value of ``col`` final, specialised once per column, or
        None when raw values are already final (amounts, dates in a separated layout); and
        the cache of its results, or None when they are not cached.

        Results are cached by raw value (accounts, journals, dates repeat on every line); the
        cache is cleared when it grows, so memory stays flat.  Errors carry the field name
        only; :meth:`write` adds the entry and line.
        """
        p = self.profile
        textual = kind in ("text", "code", "literal")
        neutralise = kind in ("text", "code") and p.separator is not None and p.neutralise_formulas
        transcoder = self._transcoder
        transcode = transcoder.text
        any_text = transcoder._unicode  # every character is encodable: nothing to transcode
        limit = col.width
        if kind == "text" and p.label_max and (limit is None or p.label_max < limit):
            limit = p.label_max
        mode = col.truncate or ("right" if kind == "text" and p.truncate_labels else "error")
        fixed = p.separator is None
        width = col.width or 0
        right = col.align == "right"
        pad = col.pad
        quote_always = not fixed and (p.quoting == "all" or col.quoted)
        sep, q = p.separator or "", p.quote_char
        qq = q + q
        refuse_quotes = p.quoting == "none"
        name = col.field
        if kind in ("amount", "number", "date") and not fixed and limit is None:
            pattern = col.date_format or p.date_format
            safe_chars = "0123456789-+" + p.decimal_mark + (pattern if kind == "date" else "")
            if not quote_always and sep not in safe_chars and q not in safe_chars:
                return None, None  # digits, sign and decimal mark need nothing done
        cache: _Cache = {}
        cached = kind not in ("amount", "number")  # amounts rarely repeat: do not cache them
        most = sys.maxsize if limit is None else limit
        just = str.rjust if right else str.ljust

        def prepare(value: str) -> str:
            """A text or code value cleaned, neutralised and made to fit the encoding."""
            if not value.isprintable():
                value = clean_text(value)
            if neutralise and is_formula(value):  # plain numbers (sense "+1") are left as is
                value = "'" + value
            if not (any_text or value.isascii()):
                value = transcode(value, None, name)
            return value

        def cut(value: str) -> str:
            """A value longer than ``limit``: truncated, or refused."""
            if mode == "error":
                raise FormatError(
                    f"{value!r} is longer than {limit} characters (set truncate to allow)",
                    field=name,
                )
            return value[:limit] if mode == "right" else value[-limit:]

        # One function per layout; ASCII printable text that no spreadsheet would run as a
        # formula needs no preparing (the usual case), which is checked inline.
        if fixed and not textual and not cached:  # numbers and amounts

            def finish(raw: str) -> str:
                return just(raw if len(raw) <= most else cut(raw), width, pad)

        elif fixed:

            def finish(raw: str) -> str:
                value = raw
                if (textual and not (value.isascii() and value.isprintable())) or (
                    neutralise and value.startswith(FORMULA_PREFIXES)
                ):
                    value = prepare(value)
                if len(value) > most:
                    value = cut(value)
                value = just(value, width, pad)
                if cached:
                    if len(cache) > 4096:
                        cache.clear()
                    cache[raw] = value
                return value

        elif quote_always:

            def finish(raw: str) -> str:
                value = raw
                if (textual and not (value.isascii() and value.isprintable())) or (
                    neutralise and value.startswith(FORMULA_PREFIXES)
                ):
                    value = prepare(value)
                if len(value) > most:
                    value = cut(value)
                value = q + value.replace(q, qq) + q
                if cached:
                    if len(cache) > 4096:
                        cache.clear()
                    cache[raw] = value
                return value

        else:

            def finish(raw: str) -> str:
                value = raw
                if (textual and not (value.isascii() and value.isprintable())) or (
                    neutralise and value.startswith(FORMULA_PREFIXES)
                ):
                    value = prepare(value)
                if len(value) > most:
                    value = cut(value)
                if sep in value or q in value:
                    if refuse_quotes:
                        raise FormatError(
                            f"{value!r} holds the separator or quote and quoting is 'none'",
                            field=name,
                        )
                    value = q + value.replace(q, qq) + q
                if cached:
                    if len(cache) > 4096:
                        cache.clear()
                    cache[raw] = value
                return value

        return finish, (cache if cached else None)

    def _quote(self, value: str) -> str:
        q = self.profile.quote_char
        return q + value.replace(q, q + q) + q

    def _row(self, entry: Entry, line: EntryLine, i: int, n: int) -> str:
        row = self._const_row.copy()
        for idx, per_entry, get in self._cols:
            row[idx] = get(entry, i) if per_entry else get(line, n)
        return self._joiner.join(row)

    def header_line(self) -> str:
        p = self.profile
        titles = [col.header or col.field for col in p.columns]
        if p.separator is None:
            return "".join(
                t[: c.width].ljust(c.width or 0) for t, c in zip(titles, p.columns, strict=True)
            )
        return p.separator.join(titles)

    def _refuse_foreign(self, line: EntryLine) -> None:
        raise FormatError(
            f"{self.profile.name} has no column for the foreign amount "
            f"({line.currency_amount} {line.currency}); set foreign_currency = 'ignore' to "
            "write book-currency amounts only",
            field="currency_amount",
        )

    @staticmethod
    def _locate(err: FormatError, entry: Entry, k: int) -> FormatError:
        """The error with its entry and, for a line field, the line number."""
        name = err.field or ""
        field_name = name if name in ENTRY_FIELDS or k == 0 else f"lines[{k}].{name}"
        return FormatError(err.message, document_key=entry.document_key, field=field_name)

    def _entry_error(self, entry: Entry, i: int, n: int) -> FormatError:
        """The first error of an entry the fast path refused, located: fields in the order
        a row is written (entry fields, then each line's), then the balance."""
        refuse_foreign = (self.profile.foreign_currency == "error"
                          and not self.profile.has_field("currency_amount"))  # fmt: skip
        k = 0
        try:
            for _, get in self._entry_cols:
                get(entry, i)
            debit = credit = _ZERO
            for k, line in enumerate(entry.lines, 1):  # noqa: B007 - k locates errors
                n += 1
                debit += line.debit
                credit += line.credit
                if refuse_foreign and line.currency_amount is not None:
                    self._refuse_foreign(line)
                for _, get in self._line_cols:
                    get(line, n)
            k = 0
            if debit != credit:
                raise FormatError(f"entry is not balanced: debit {debit} != credit {credit}",
                                  field="lines")  # fmt: skip
        except FormatError as err:
            return self._locate(err, entry, k)
        raise AssertionError(f"{entry.document_key}: refused, yet no field fails")

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        p = self.profile
        eol = p.line_ending
        encoding, codec, batch = self._transcoder.encoding, self._codec, self._batchable
        render = self._render
        if p.header:
            out.write((self.header_line() + eol).encode(encoding))
        rows: list[str] = []  # the parts of rows, each row's last part ending with `eol`
        append = rows.append

        def flush() -> None:
            text = "".join(rows)
            out.write(text.encode(codec) if text.isascii() else text.encode(encoding))
            rows.clear()

        def slow(entry: Entry, i: int, n: int) -> int:
            """The exact renderer, for an entry the fast path leaves: its rows, or its
            first error located."""
            start = len(rows)
            try:
                last = render(entry, i, n, append)
            except FormatError:
                del rows[start:]
                raise self._entry_error(entry, i, n) from None
            except BaseException:
                del rows[start:]  # no half entry in the file
                raise
            # An entry without lines is an empty line, as it always was.
            rows[start:] = [row + eol for row in rows[start:]] if entry.lines else [eol]
            return last

        try:
            return int(self._write_all(entries, rows, slow, flush, _BATCH if batch else 1))
        finally:
            if rows:
                flush()

    # -- reading back (round trips, checks) ------------------------------------------------

    def read_rows(self, data: bytes) -> Iterator[dict[str, str]]:
        """Rows of a file written with this profile, as {field: value} (literals left out;
        a field that appears twice keeps its first value)."""
        p = self.profile
        text = data.decode(self._transcoder.encoding)
        lines = text.split(p.line_ending)
        if lines and lines[-1] == "":
            lines.pop()
        if p.header:
            lines = lines[1:]
        if p.separator is None:
            for raw in lines:
                row: dict[str, str] = {}
                pos = 0
                for col in p.columns:
                    width = col.width or 0
                    row.setdefault(col.field, raw[pos : pos + width].strip())
                    pos += width
                row.pop("literal", None)
                yield row
            return
        reader = csv.reader(
            io.StringIO("\n".join(lines)),
            delimiter=p.separator,
            quotechar=p.quote_char,
            quoting=csv.QUOTE_NONE if p.quoting == "none" else csv.QUOTE_MINIMAL,
        )
        for values in reader:
            row = {}
            for col, value in zip(p.columns, values, strict=True):
                row.setdefault(col.field, value)
            row.pop("literal", None)
            yield row


def _declare(target: Any, profile: TextProfile) -> None:
    """Copy a profile's layout onto the format's declarative properties."""
    target.columns = tuple(col.field for col in profile.columns)
    target.separator = profile.separator
    target.decimal_mark = profile.decimal_mark
    target.date_format = profile.date_format
    target.encoding = profile.encoding
    target.line_ending = profile.line_ending
    target.header = profile.header
    target.fixed_width = profile.fixed_width
    widths = [c.width for c in profile.columns if c.field in ("label", "line_label") and c.width]
    target.max_label_length = min([*widths, *([profile.label_max] if profile.label_max else [])],
                                  default=None)  # fmt: skip
    target.alphanumeric_accounts = not profile.numeric_accounts
    target.aux_accounts = profile.has_field("aux") or profile.has_field("account_or_aux")


def _party_getter(name: str) -> Getter:
    """A party field of the entry, empty when the entry names no party."""

    def get(entry: Entry, i: int) -> str:
        party = entry.party
        return "" if party is None else getattr(party, name) or ""

    return get
