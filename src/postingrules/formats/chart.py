"""Account names: the merchant's chart of accounts, else the Plan Comptable Général's.

A FEC's CompteLib is the account's name "conformément à la nomenclature du plan comptable"
(art. A47 A-1 LPF, VII), and ledgers that create accounts on import (Ciel XImport) take the
name from the file: neither can be the entry's label, which changes from line to line.  The
accountant's own chart, given as a file (:func:`read_chart`) or as ``account_labels``, names
the accounts it lists; any other account takes the name of the PCG account it subdivides
(:func:`pcg_label`, longest prefix: ``44572000`` is a ``4457``), the way the PCG defines
sub-accounts (art. 1121-1: an account is subdivided by adding digits to its right).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

# The 2025 PCG (ANC regulation 2014-03 as recast by 2022-06): every two-digit account, and
# the three- to five-digit ones an e-commerce ledger posts to (sales, VAT, customers, banks,
# payment providers, fees, gaps).  Names as the regulation's nomenclature gives them.
PCG: dict[str, str] = {
    "10": "Capital et réserves",
    "11": "Report à nouveau",
    "12": "Résultat de l'exercice",
    "13": "Subventions d'investissement",
    "14": "Provisions réglementées",
    "15": "Provisions",
    "16": "Emprunts et dettes assimilées",
    "17": "Dettes rattachées à des participations",
    "18": "Comptes de liaison des établissements et sociétés en participation",
    "20": "Immobilisations incorporelles",
    "21": "Immobilisations corporelles",
    "22": "Immobilisations mises en concession",
    "23": "Immobilisations en cours, avances et acomptes",
    "25": "Parts dans des entreprises liées et créances sur des entreprises liées",
    "26": "Participations et créances rattachées à des participations",
    "27": "Autres immobilisations financières",
    "28": "Amortissements des immobilisations",
    "29": "Dépréciations des immobilisations",
    "31": "Matières premières et fournitures",
    "32": "Autres approvisionnements",
    "33": "En-cours de production de biens",
    "34": "En-cours de production de services",
    "35": "Stocks de produits",
    "37": "Stocks de marchandises",
    "38": "Stocks en voie d'acheminement, mis en dépôt ou donnés en consignation",
    "39": "Dépréciations des stocks et en-cours",
    "40": "Fournisseurs et comptes rattachés",
    "401": "Fournisseurs",
    "41": "Clients et comptes rattachés",
    "411": "Clients",
    "413": "Clients - Effets à recevoir",
    "416": "Clients douteux ou litigieux",
    "418": "Clients - Produits non encore facturés",
    "419": "Clients créditeurs",
    "4191": "Clients - Avances et acomptes reçus sur commandes",
    "4197": "Clients - Autres avoirs",
    "4198": "Rabais, remises, ristournes à accorder et autres avoirs à établir",
    "42": "Personnel et comptes rattachés",
    "43": "Sécurité sociale et autres organismes sociaux",
    "44": "État et autres collectivités publiques",
    "445": "État - Taxes sur le chiffre d'affaires",
    "4452": "TVA due intracommunautaire",
    "4455": "Taxes sur le chiffre d'affaires à décaisser",
    "4456": "Taxes sur le chiffre d'affaires déductibles",
    "4457": "Taxes sur le chiffre d'affaires collectées par l'entreprise",
    "44571": "TVA collectée",
    "4458": "Taxes sur le chiffre d'affaires à régulariser ou en attente",
    "45": "Groupe et associés",
    "46": "Débiteurs divers et créditeurs divers",
    "467": "Autres comptes débiteurs ou créditeurs",
    "47": "Comptes transitoires ou d'attente",
    "471": "Comptes d'attente",
    "48": "Comptes de régularisation",
    "49": "Dépréciations des comptes de tiers",
    "50": "Valeurs mobilières de placement",
    "51": "Banques, établissements financiers et assimilés",
    "511": "Valeurs à l'encaissement",
    "5112": "Chèques à encaisser",
    "512": "Banques",
    "514": "Chèques postaux",
    "517": "Autres organismes financiers",
    "52": "Instruments financiers à terme et jetons détenus",
    "53": "Caisse",
    "54": "Régies d'avances et accréditifs",
    "58": "Virements internes",
    "59": "Dépréciations des comptes financiers",
    "60": "Achats",
    "607": "Achats de marchandises",
    "61": "Services extérieurs",
    "62": "Autres services extérieurs",
    "622": "Rémunérations d'intermédiaires et honoraires",
    "6222": "Commissions et courtages sur ventes",
    "624": "Transports de biens et transports collectifs du personnel",
    "6242": "Transports sur ventes",
    "626": "Frais postaux et de télécommunications",
    "627": "Services bancaires et assimilés",
    "6278": "Autres frais et commissions sur prestations de services",
    "63": "Impôts, taxes et versements assimilés",
    "64": "Charges de personnel",
    "65": "Autres charges de gestion courante",
    "658": "Charges diverses de gestion courante",
    "66": "Charges financières",
    "665": "Escomptes accordés",
    "666": "Pertes de change financières",
    "67": "Charges exceptionnelles",
    "68": "Dotations aux amortissements, aux dépréciations et aux provisions",
    "69": "Participation des salariés - Impôts sur les bénéfices et assimilés",
    "70": "Ventes de produits fabriqués, prestations de services, marchandises",
    "701": "Ventes de produits finis",
    "706": "Prestations de services",
    "707": "Ventes de marchandises",
    "708": "Produits des activités annexes",
    "7085": "Ports et frais accessoires facturés",
    "7088": "Autres produits d'activités annexes",
    "709": "Rabais, remises et ristournes accordés par l'entreprise",
    "7097": "Rabais, remises et ristournes accordés sur ventes de marchandises",
    "71": "Production stockée (ou déstockage)",
    "72": "Production immobilisée",
    "74": "Subventions d'exploitation",
    "75": "Autres produits de gestion courante",
    "758": "Produits divers de gestion courante",
    "76": "Produits financiers",
    "765": "Escomptes obtenus",
    "766": "Gains de change financiers",
    "77": "Produits exceptionnels",
    "78": "Reprises sur amortissements, dépréciations et provisions",
}
_LONGEST = max(map(len, PCG))


class ChartError(ValueError):
    """A chart of accounts file that cannot be read: the file, the line and why."""


def pcg_label(account: str) -> str | None:
    """The name of the PCG account that ``account`` subdivides (longest prefix), or None
    when its first two characters are no PCG account."""
    for size in range(min(len(account), _LONGEST), 1, -1):
        label = PCG.get(account[:size])
        if label is not None:
            return label
    return None


class Chart:
    """The merchant's account names (``labels``, account -> name) with the PCG's behind them.

    An account the chart lists under another length is found too: ``411000`` names
    ``41100000``, trailing zeros only padding a numeric account (art. 1121-1)."""

    def __init__(self, labels: Mapping[str, str] | None = None) -> None:
        self.labels = dict(labels or {})
        self._roots = {acc.rstrip("0"): name for acc, name in self.labels.items() if acc.isdigit()}

    def label(self, account: str) -> str | None:
        """``account``'s name: the chart's, else the PCG's (:func:`pcg_label`)."""
        label = self.labels.get(account)
        if label is None and account.isdigit():
            label = self._roots.get(account.rstrip("0"))
        return label or pcg_label(account)


def read_chart(path: str | Path) -> dict[str, str]:
    """A chart of accounts exported by the accountant's software: one account a row, its
    number then its name, separated by ``;``, TAB or ``,`` (found on the first row), UTF-8
    (a BOM is allowed), a header row allowed (a first row whose number has no digit)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ChartError(f"{path}: not UTF-8 ({err.reason} at byte {err.start})") from None
    first = text.split("\n", 1)[0]
    delimiter = next((d for d in (";", "\t", ",") if d in first), ";")
    labels: dict[str, str] = {}
    for number, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), 1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and not any(c.isdigit() for c in cells[0]):
            continue  # a header
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise ChartError(f"{path}:{number}: expected an account and its name, got {row!r}")
        account, name = cells[0], cells[1]
        if labels.get(account, name) != name:
            raise ChartError(
                f"{path}:{number}: account {account} is named twice "
                f"({labels[account]!r}, then {name!r})"
            )
        labels[account] = name
    return labels
