"""The customers file ("Création des clients"): one row per auxiliary account the entries use.

Desktop ledgers refuse entries on an auxiliary account they do not know, so the product sheet
exports the customers beside the entries.  An entry whose auxiliary account is the customer's
own carries the customer (:class:`~postingrules.model.entries.Party`: company, address,
e-mail, VAT number); a shared account such as CLIENTWEB has only its code and name.

Each auxiliary account is written once, at its first reference; the set of codes already
written is the only state kept (one short string per distinct customer).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO, ClassVar

from postingrules.formats.base import FormatError
from postingrules.formats.text import Column, TextExport, TextProfile
from postingrules.model.entries import Entry

CUSTOMERS = TextProfile(
    name="customers",
    kind="customers",
    columns=(
        Column("aux", header="CompteAux"), Column("aux_name", header="Nom"),
        Column("account", header="Collectif"), Column("company", header="Societe"),
        Column("street", header="Adresse"), Column("postcode", header="CodePostal"),
        Column("city", header="Ville"), Column("country", header="Pays"),
        Column("email", header="Email"), Column("vat_number", header="TVA"),
    ),
    separator=";",
    header=True,
)  # fmt: skip


class CustomersExport(TextExport):
    """Distinct auxiliary accounts in a customisable layout; :meth:`write` returns their count."""

    name: ClassVar[str] = "customers"
    summary: ClassVar[str] = "customers file: the auxiliary accounts the entries reference"
    layout: ClassVar[TextProfile] = CUSTOMERS

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        p = self.profile
        encoding, eol = self._transcoder.encoding, p.line_ending
        if p.header:
            out.write((self.header_line() + eol).encode(encoding))
        seen: set[str] = set()
        for entry in entries:
            for k, line in enumerate(entry.lines, 1):
                if line.aux and line.aux not in seen:
                    seen.add(line.aux)
                    try:
                        row = self._row(entry, line, len(seen), len(seen))
                    except FormatError as err:
                        raise self._locate(err, entry, k) from None
                    out.write((row + eol).encode(encoding))
        return len(seen)
