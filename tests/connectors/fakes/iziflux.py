"""Iziflux test files and a loopback fake of its hourly file server.

No real Iziflux file is public: these files follow the only known description (a
third-party PrestaShop module, see API-NOTES.md §5) — ``|`` separators, a header line, one
line per order item, ``NON-RENSEIGNE`` for empty values, ISO 4217 numeric currencies, and
the column positions that module reads.  Prices, shipping, VAT rate and address columns are
*invented* here (positions 41–46, names below) because no public source shows them; the
tests map them by header name, as a merchant would after looking at a real file.

Hour 10 holds two good orders and one with an unreadable quantity; hour 11 (encoded in
Windows-1252) repeats one line of hour 10, adds a line to an order already imported and one
new order written the French way (decimal comma, dd/mm/yyyy date).  Hour 12 has no file.
"""

from __future__ import annotations

from .server import FakeRequest, FakeResponse

WIDTH = 47
EXTRA = {
    41: "PRIX_UNITAIRE_TTC",
    42: "FRAIS_PORT_TTC",
    43: "TAUX_TVA",
    44: "PAYS",
    45: "CP",
    46: "VILLE",
}
KNOWN = {
    0: "ID_COMMANDE",
    1: "REF_PRODUIT",
    2: "REF_MARKETPLACE",
    3: "NOM_PRODUIT",
    4: "DATE_COMMANDE",
    6: "PAIEMENT",
    7: "CIVILITE",
    8: "PRENOM",
    9: "NOM",
    18: "EMAIL",
    30: "TRANSPORTEUR",
    31: "MARKETPLACE",
    32: "QUANTITE",
    39: "DEVISE",
    40: "ID_TRANSACTION",
}
ACCOUNT = "boutique-demo"


def _line(**cells: object) -> str:
    row = ["NON-RENSEIGNE"] * WIDTH
    names = {v: k for k, v in {**KNOWN, **EXTRA}.items()}
    for name, value in cells.items():
        row[names[name]] = str(value)
    return "|".join(row)


HEADER = "|".join({**KNOWN, **EXTRA}.get(i, f"COL{i}") for i in range(WIDTH))


def _amazon(ref: str, name: str, qty: int, price: str, rate: str) -> str:
    return _line(
        ID_COMMANDE="AMZ-1001",
        REF_PRODUIT=f"SKU-{ref}",
        REF_MARKETPLACE=f"ASIN-{ref}",
        NOM_PRODUIT=name,
        DATE_COMMANDE="2026-03-02 09:41:00",
        PAIEMENT="Amazon Pay",
        CIVILITE="M.",
        PRENOM="Paul",
        NOM="Durand",
        TRANSPORTEUR="Colissimo",
        MARKETPLACE="Amazon",
        QUANTITE=qty,
        DEVISE="978",
        ID_TRANSACTION="402-1234567",
        PRIX_UNITAIRE_TTC=price,
        FRAIS_PORT_TTC="4.80",
        TAUX_TVA=rate,
        PAYS="FR",
        CP="75011",
        VILLE="Paris",
    )


HOUR_10 = (
    "\n".join(
        [
            HEADER,
            _amazon("A", "Théière fonte", 2, "12.00", "20"),
            _amazon("B", "Thé vert 100 g", 1, "5.50", "5.5"),
            _line(
                ID_COMMANDE="MM-2002",
                REF_PRODUIT="SKU-D",
                REF_MARKETPLACE="MM-D",
                NOM_PRODUIT="Tasse",
                DATE_COMMANDE="2026-03-02 09:50:00",
                PRENOM="Amy",
                NOM="Stone",
                EMAIL="amy@example.co.uk",
                MARKETPLACE="ManoMano",
                QUANTITE=1,
                DEVISE="826",
                ID_TRANSACTION="MM-77",
                PRIX_UNITAIRE_TTC="19.99",
                TAUX_TVA="20",
                PAYS="GB",
            ),
            _line(
                ID_COMMANDE="CD-3003",
                REF_MARKETPLACE="CD-X",
                DATE_COMMANDE="2026-03-02 09:55:00",
                MARKETPLACE="Cdiscount",
                QUANTITE="abc",
                DEVISE="978",
                PRIX_UNITAIRE_TTC="9.90",
                TAUX_TVA="20",
                PAYS="FR",
            ),
        ]
    )
    + "\n"
)

HOUR_11 = (
    "\n".join(
        [
            HEADER,
            _amazon("A", "Théière fonte", 2, "12.00", "20"),  # already in hour 10: a duplicate
            _amazon("C", "Filtre à thé", 1, "3.00", "20"),  # new line of an imported order
            _line(
                ID_COMMANDE="FNAC-4004",
                REF_PRODUIT="SKU-E",
                REF_MARKETPLACE="FN-E",
                NOM_PRODUIT="Livre de recettes",
                DATE_COMMANDE="02/03/2026 11:20:00",
                PRENOM="Zoé",
                NOM="Lefèvre",
                EMAIL="zoe@example.fr",
                MARKETPLACE="Fnac",
                QUANTITE=2,
                DEVISE="978",
                ID_TRANSACTION="FN-9",
                PRIX_UNITAIRE_TTC="15,90",
                FRAIS_PORT_TTC="2,99",
                TAUX_TVA="5,5",
                PAYS="FR",
                CP="33000",
                VILLE="Bordeaux",
            ),
        ]
    )
    + "\n"
)

FILES = {
    f"prestashop_{ACCOUNT}_2026-03-02-10-00-00.txt": HOUR_10.encode("utf-8"),
    f"prestashop_{ACCOUNT}_2026-03-02-11-00-00.txt": HOUR_11.encode("cp1252"),
}
PREFIX = f"/iziflux/marketPlace/partenaires/prestashop/{ACCOUNT}/"


def serve(request: FakeRequest) -> FakeResponse:
    """The hourly files under the module's path; any other hour is a 404."""
    body = FILES.get(request.path.removeprefix(PREFIX)) if request.path.startswith(PREFIX) else None
    if body is None:
        return FakeResponse(404, b"<html>Not Found</html>", {"Content-Type": "text/html"})
    return FakeResponse(200, body, {"Content-Type": "text/plain"})
