"""The base every accounting format builds on, and the registry that finds formats by name.

A format declares its properties as class attributes (sqlglot's dialect style): the columns it
writes, separator, decimal mark, date format, encoding, line ending, header line, maximum
label length, whether accounts may hold letters and whether auxiliary (third-party) accounts
exist.  ``postingrules formats`` and ``docs/formats.md`` read them, so what a format claims
and what it writes cannot drift apart.  Options are given to the constructor
(``Format(**options)``) and checked against ``option_defaults``, with a did-you-mean for typos.

Writers stream: they must not hold all entries in memory.  A value a format cannot represent
raises :class:`FormatError` naming the entry (``document_key``) and the field; the shared text
helpers here make the two safety rules of every text format hold in one place:

* a text field starting with ``=``, ``+``, ``-`` or ``@`` would run as a formula when the file
  is opened in a spreadsheet: :func:`neutralise_formula` prefixes it with an apostrophe
  (``'=SUM(A1)``), the convention spreadsheets themselves use for "this is text"; a plain
  number (``+1``, ``-1``, ``-12,50``) is no formula and is left as it is;
* a character the target encoding cannot hold is transliterated (``é`` → ``e``, ``œ`` → ``oe``)
  or, when no faithful ASCII form exists, refused with :class:`FormatError`; it is never
  replaced by ``?`` (see :class:`Transcoder`).
"""

from __future__ import annotations

import codecs
import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO, ClassVar, Literal

from postingrules.model.entries import ZERO, Entry, EntryLine


class UnknownFormatError(LookupError):
    """Raised for a format name that is not registered; the message suggests close names."""


class OptionError(ValueError):
    """An unknown or ill-typed format option or profile key; the message suggests close names."""


class FormatError(ValueError):
    """An entry the format cannot represent, located by document key and field.

    ``str(error)`` reads ``order-5: field 'journal': 'VTE' is longer than 2 characters``.
    """

    def __init__(self, message: str, *, document_key: str | None = None, field: str | None = None):
        self.message = message
        self.document_key = document_key
        self.field = field
        where = []
        if document_key is not None:
            where.append(document_key)
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(": ".join([*where, message]))


def unbalanced(lines: Iterable[EntryLine]) -> bool:
    """Whether debits and credits differ (exact): the slow check, for when a writer's own
    running totals (which skip zero amounts) disagree."""
    lines = tuple(lines)
    return sum((ln.debit for ln in lines), ZERO) != sum((ln.credit for ln in lines), ZERO)


def string_mapping(fmt: str, option: str, value: object) -> dict[str, str]:
    """A mapping option (code or prefix -> name or Id) checked when the format is built: a
    list, a number or a non-text key or value (``--option`` values are JSON: ``{"411": 12}``
    gives a number) would otherwise fail later with a bare ``TypeError``/``ValueError``, or
    never match and be dropped silently.  ``None`` is the empty mapping."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise OptionError(
            f"format {fmt!r} option {option!r} must be a mapping of text to text "
            f'(e.g. {{"411": "..."}}), not {value!r}'
        )
    for key, item in value.items():
        if not (isinstance(key, str) and key and isinstance(item, str) and item):
            raise OptionError(
                f"format {fmt!r} option {option!r}: {key!r}: {item!r} is not a non-empty text "
                "key with a non-empty text value"
            )
    return dict(value)


def unbalanced_error(entry: Entry) -> FormatError:
    """The error for an entry whose debits and credits differ: hledger, ledger and
    bean-check would reject the whole file, QuickBooks the entry; this names it first."""
    return FormatError(
        f"entry is not balanced: debit {entry.total_debit} != credit {entry.total_credit}",
        document_key=entry.document_key,
        field="lines",
    )


def in_entry(err: FormatError, entry: Entry) -> FormatError:
    """``err`` naming ``entry`` when it names no entry: a writer's per-entry rendering calls
    helpers (:func:`clean_text` and the like) that know the value, not the entry it is in."""
    if err.document_key is not None:
        return err
    return FormatError(err.message, document_key=entry.document_key, field=err.field)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class Format:
    """An export format.  Subclasses set the class attributes and implement :meth:`write`."""

    name: ClassVar[str]
    summary: ClassVar[str]
    extension: ClassVar[str] = ".txt"

    # Declarative properties (None: not applicable, e.g. no separator in a fixed-width file).
    columns: ClassVar[tuple[str, ...]] = ()
    separator: ClassVar[str | None] = None
    decimal_mark: ClassVar[str] = "."
    date_format: ClassVar[str] = "%Y-%m-%d"
    encoding: ClassVar[str] = "utf-8"
    line_ending: ClassVar[str] = "\n"
    header: ClassVar[bool] = False
    max_label_length: ClassVar[int | None] = None
    alphanumeric_accounts: ClassVar[bool] = True
    aux_accounts: ClassVar[bool] = True
    fixed_width: ClassVar[bool] = False

    option_defaults: ClassVar[Mapping[str, Any]] = {}
    """Options this format accepts, with their default values."""

    def __init__(self, **options: Any) -> None:
        for key in options:
            if key not in self.option_defaults:
                raise OptionError(
                    f"format {self.name!r} has no option {key!r}"
                    f"{did_you_mean(key, self.option_defaults)}"
                    f" (options: {', '.join(sorted(self.option_defaults)) or 'none'})"
                )
        self.options: dict[str, Any] = {**self.option_defaults, **options}

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        """Write every entry to ``out``; return the number of entries written."""
        raise NotImplementedError

    @classmethod
    def describe(cls) -> str:
        """One line for ``postingrules formats``: summary and the main properties."""
        if cls.fixed_width:
            layout = "fixed width"
        elif cls.separator is None:
            layout = "structured"
        else:
            layout = {"\t": "TAB", " ": "space"}.get(cls.separator, repr(cls.separator))
        props = [layout, cls.encoding, f"dates {cls.date_format}", f"decimal {cls.decimal_mark!r}"]
        if cls.header:
            props.append("header")
        if cls.max_label_length:
            props.append(f"labels <= {cls.max_label_length}")
        if not cls.alphanumeric_accounts:
            props.append("numeric accounts")
        if not cls.aux_accounts:
            props.append("no aux accounts")
        return f"{cls.summary} [{', '.join(props)}]"


# --- text safety helpers shared by the text formats ------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@")

_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")
"""A signed number: what a spreadsheet reads as a number, never as a formula."""

_CONTROL = {c: " " for c in range(32)} | {0x7F: " "}
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

# Characters NFKD does not decompose into an ASCII letter, with their usual ASCII form.
_FALLBACK = {
    "œ": "oe",
    "Œ": "OE",
    "æ": "ae",
    "Æ": "AE",
    "ß": "ss",
    "ø": "o",
    "Ø": "O",
    "đ": "d",
    "Đ": "D",
    "ł": "l",
    "Ł": "L",
    "þ": "th",
    "Þ": "TH",
    "ð": "d",
    "Ð": "D",
    "ı": "i",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "«": '"',
    "»": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "€": "EUR",
    "£": "GBP",
    "°": "o",
    "×": "x",
    "·": ".",
    "\u00a0": " ",
    "\u202f": " ",
}


def clean_text(value: str) -> str:
    """Control characters (TAB, CR, LF…) become spaces: they would break a record or a field.
    A lone surrogate (``"\\ud800"``, which JSON can carry) is refused: no encoding can write
    it, and the file's encoding would fail on it with no entry named.  Both are looked for
    only in a value that is not printable, the rare case."""
    if value.isprintable():
        return value
    surrogate = _SURROGATE.search(value)
    if surrogate:
        raise FormatError(f"character {surrogate[0]!r} (a lone surrogate) cannot be written")
    return value.translate(_CONTROL)


def is_formula(value: str) -> bool:
    """Whether a spreadsheet would evaluate ``value``: it starts with ``=``, ``+``, ``-`` or
    ``@`` and is not a plain number (optional sign, digits, optional decimal mark and digits).
    A number such as the FEC's sense ``+1``/``-1`` is read as a number: an apostrophe before
    it would only make the target software read ``'+1``."""
    return value.startswith(FORMULA_PREFIXES) and _PLAIN_NUMBER.fullmatch(value) is None


def neutralise_formula(value: str) -> str:
    """Prefix a text value that a spreadsheet would evaluate (see :func:`is_formula`)."""
    return "'" + value if is_formula(value) else value


OnUnencodable = Literal["transliterate", "refuse"]


class Transcoder:
    """Make text fit an encoding: keep what it holds, transliterate the rest, or refuse.

    A character is kept when the encoding holds it (``é`` stays in cp1252); otherwise its NFKD
    decomposition without combining marks is used when the encoding holds that (``ą`` → ``a``
    in cp1252), then a small table of usual ASCII forms (``œ`` → ``oe``, ``€`` → ``EUR``).  A
    character with none of these (``漢``) raises :class:`FormatError`; so does any character
    the encoding cannot hold when ``on_unencodable="refuse"``.
    """

    def __init__(self, encoding: str, on_unencodable: OnUnencodable = "transliterate") -> None:
        try:
            self.encoding = codecs.lookup(encoding).name
        except LookupError:
            raise OptionError(f"unknown encoding {encoding!r}") from None
        if on_unencodable not in ("transliterate", "refuse"):
            raise OptionError(
                f"on_unencodable must be 'transliterate' or 'refuse', not {on_unencodable!r}"
            )
        self.on_unencodable = on_unencodable
        self._unicode = self.encoding in ("utf-8", "utf-16", "utf-32", "utf-8-sig")
        # Transliterations found so far (code point -> text), for str.translate: a label
        # with accents is then made to fit with a few C calls, not a Python loop over its
        # characters with an encode per character.  Only characters the encoding cannot
        # hold are in it, so it leaves a value that fits as it is, and a value it leaves
        # unencodable goes through the loop (which raises, or adds the missing characters).
        self._known: dict[int, str] = {}

    def _translate(self, run: re.Match[str]) -> str:
        return run[0].translate(self._known)

    def _holds(self, value: str) -> bool:
        try:
            value.encode(self.encoding)
        except UnicodeEncodeError:
            return False
        return True

    def text(self, value: str, document_key: str | None = None, field: str | None = None) -> str:
        """``value`` made encodable; :class:`FormatError` naming the entry and field if not."""
        if self._unicode or value.isascii():
            return value
        # The known transliterations applied (the value itself when it fits the encoding);
        # to its non-ASCII runs only: str.translate on a whole label costs several times more.
        known = _NON_ASCII.sub(self._translate, value)
        if self._holds(known):
            return known
        out = []
        for char in value:
            if self._holds(char):
                out.append(char)
                continue
            if self.on_unencodable == "refuse":
                raise FormatError(
                    f"character {char!r} cannot be written in {self.encoding}",
                    document_key=document_key,
                    field=field,
                )
            plain = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            if not (plain and self._holds(plain)):
                plain = _FALLBACK.get(char, "")
                if not (plain and self._holds(plain)):
                    raise FormatError(
                        f"character {char!r} has no transliteration in {self.encoding}",
                        document_key=document_key,
                        field=field,
                    )
            out.append(plain)
            if len(self._known) > 4096:
                self._known.clear()
            self._known[ord(char)] = plain
        return "".join(out)


# --- registry ----------------------------------------------------------------------------------

_REGISTRY: dict[str, type[Format]] = {}


def register(fmt: type[Format]) -> type[Format]:
    """Add a format class to the registry (usable as a decorator)."""
    _REGISTRY[fmt.name] = fmt
    return fmt


def names() -> list[str]:
    """Registered format names, sorted."""
    return sorted(_REGISTRY)


def get(name: str) -> type[Format]:
    """The format class called ``name``, or :class:`UnknownFormatError` with a suggestion."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownFormatError(
            f"unknown format {name!r}{did_you_mean(name, names())} (known: {', '.join(names())})"
        ) from None
