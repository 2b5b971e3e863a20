"""Predefined text layouts for the French desktop ledgers ("nos formats d'écritures prédéfinis").

Each layout is a :class:`TextProfile` built from the public sources collected in the project's
research notes (Dolibarr's accountancy export and OpenFlyers' published templates; no publisher
specification was available), and checked byte for byte against the worked example "order 5"
rendered in each layout.  None is marked ``verified`` yet: that flag waits for a real import
into the target software.  Two layouts are deliberately absent because no public description of
them exists: Cegid's native fixed-width ``.TRA`` and Sage 100's fixed-width ``.PNM`` import
(see docs/formats.md) — the customisable ``text`` format covers their parameterised imports.
"""

from __future__ import annotations

from typing import ClassVar

from postingrules.formats.customers import CUSTOMERS
from postingrules.formats.text import Column, TextExport, TextProfile

C = Column

DEFAULT_PROFILE = TextProfile(
    name="text",
    columns=(
        C("journal", header="Journal"), C("date", header="Date"), C("piece", header="Piece"),
        C("account", header="Compte"), C("aux", header="CompteAux"),
        C("label", header="Libelle"), C("debit", header="Debit"), C("credit", header="Credit"),
        C("currency_amount", header="MontantDevise"), C("line_currency", header="Devise"),
    ),
    separator=";",
    header=True,
    file_names={
        "sales": "ventes_{date:%Y%m%d}.txt",
        "refunds": "avoirs_{date:%Y%m%d}.txt",
        "payments": "reglements_{date:%Y%m%d}.txt",
        "customers": "clients_{date:%Y%m%d}.txt",
    },
)  # fmt: skip

EBP = TextProfile(
    name="ebp",
    columns=(
        C("line_number"), C("date"), C("journal"), C("account"), C("literal"),
        C("label", width=40, quoted=True), C("piece", width=15, quoted=True), C("amount"),
        C("sense"), C("due_date"), C("currency"),
    ),
    separator=",",
    decimal_mark=".",
    date_format="%d%m%Y",
    encoding="cp1252",
)  # fmt: skip

SAGE_COALA = TextProfile(
    name="sage-coala",
    columns=(
        C("date"), C("journal"), C("account"), C("entry_number"), C("piece"), C("debit"),
        C("credit"), C("literal", value="E"), C("aux"),
    ),
    separator=";",
    date_format="%d/%m/%Y",
    encoding="cp1252",
)  # fmt: skip

CIEL_XIMPORT = TextProfile(
    name="ciel-ximport",
    columns=(
        C("entry_number", width=5), C("journal", width=2), C("date", width=8),
        C("literal", width=8), C("piece", width=12), C("account", width=11),
        C("label", width=25), C("amount", width=13, align="right"), C("sense", width=1),
        C("literal", width=12), C("analytic", width=6), C("account_label", width=34),
        C("literal", value="O2003", width=5),
    ),
    separator=None,
    date_format="%Y%m%d",
    encoding="ascii",
)  # fmt: skip

CEGID = TextProfile(
    name="cegid",
    columns=(
        C("date"), C("journal"), C("account"), C("aux"), C("sense"), C("amount"), C("label"),
        C("piece"),
    ),
    separator=";",
    date_format="%d%m%Y",
    encoding="ascii",
)  # fmt: skip

QUADRATUS = TextProfile(
    name="quadratus",
    columns=(
        C("literal", value="M", width=1), C("account", width=8), C("journal", width=2),
        C("literal", value="000", width=3), C("date", width=6), C("literal", width=1),
        C("label", width=20), C("sense", width=1), C("literal", value="+", width=1),
        C("amount_cents", width=12, align="right", pad="0"), C("literal", width=8),
        C("literal", value="000000", width=6), C("literal", width=2), C("literal", width=3),
        C("entry_number", width=5), C("literal", width=10), C("literal", width=10),
        C("entry_number", width=8), C("currency", width=3), C("journal", width=3),
        C("literal", width=3), C("label", width=30), C("literal", width=2),
        C("piece", width=10, truncate="left"), C("literal", width=10), C("literal", width=13),
        C("literal", width=12), C("literal", width=38),
    ),
    separator=None,
    date_format="%d%m%y",
    encoding="ascii",
)  # fmt: skip

LAYOUTS: dict[str, TextProfile] = {
    p.name: p for p in (DEFAULT_PROFILE, EBP, SAGE_COALA, CIEL_XIMPORT, CEGID, QUADRATUS, CUSTOMERS)
}


class CustomText(TextExport):
    layout: ClassVar[TextProfile] = DEFAULT_PROFILE


class Ebp(TextExport):
    name: ClassVar[str] = "ebp"
    summary: ClassVar[str] = "EBP Compta ASCII import (comma, quoted labels, amount + D/C)"
    layout: ClassVar[TextProfile] = EBP


class SageCoala(TextExport):
    name: ClassVar[str] = "sage-coala"
    summary: ClassVar[str] = "Sage 100 / Coala import (';', debit and credit columns)"
    layout: ClassVar[TextProfile] = SAGE_COALA


class CielXimport(TextExport):
    name: ClassVar[str] = "ciel-ximport"
    summary: ClassVar[str] = "Ciel Compta / Sage 50 XIMPORT.TXT (fixed width, 142 characters)"
    extension: ClassVar[str] = ".TXT"
    layout: ClassVar[TextProfile] = CIEL_XIMPORT


class Cegid(TextExport):
    name: ClassVar[str] = "cegid"
    summary: ClassVar[str] = "Cegid parameterised import (';', sense + amount; not the .TRA)"
    extension: ClassVar[str] = ".csv"
    layout: ClassVar[TextProfile] = CEGID


class Quadratus(TextExport):
    name: ClassVar[str] = "quadratus"
    summary: ClassVar[str] = "QuadraCOMPTA ASCII import (fixed width, 231 characters, M records)"
    layout: ClassVar[TextProfile] = QUADRATUS


LAYOUT_FORMATS: tuple[type[TextExport], ...] = (
    CustomText, Ebp, SageCoala, CielXimport, Cegid, Quadratus,
)  # fmt: skip
