"""Account names: the merchant's chart first, then the PCG account an account subdivides."""

from __future__ import annotations

from pathlib import Path

import pytest

from postingrules.formats.chart import PCG, Chart, ChartError, pcg_label, read_chart


@pytest.mark.parametrize(
    ("account", "label"),
    [
        ("41100000", "Clients"),
        ("44572000", "Taxes sur le chiffre d'affaires collectées par l'entreprise"),
        ("44571000", "TVA collectée"),
        ("4457BE", "Taxes sur le chiffre d'affaires collectées par l'entreprise"),
        ("70852000", "Ports et frais accessoires facturés"),
        ("70720000", "Ventes de marchandises"),
        ("62780000", "Autres frais et commissions sur prestations de services"),
        ("658000", "Charges diverses de gestion courante"),
        ("12", "Résultat de l'exercice"),
    ],
)
def test_pcg_label_is_the_longest_pcg_prefix(account: str, label: str) -> None:
    assert pcg_label(account) == label


@pytest.mark.parametrize("account", ["99000000", "X1", "4", ""])
def test_pcg_label_none_outside_the_pcg(account: str) -> None:
    assert pcg_label(account) is None


def test_pcg_keys_are_digits_of_two_to_five() -> None:
    assert all(key.isdigit() and 2 <= len(key) <= 5 for key in PCG)
    # Every two-digit prefix of a listed account is listed itself: no account falls back
    # past its class's name to nothing.
    assert all(key[:2] in PCG for key in PCG)


def test_chart_names_its_accounts_then_the_pcg_names_the_rest() -> None:
    chart = Chart({"411000": "Clients web", "44572000": "TVA collectée 20 %", "4457BE": "TVA BE"})
    assert chart.label("44572000") == "TVA collectée 20 %"
    assert chart.label("41100000") == "Clients web"  # 411000 padded to 8 digits
    assert chart.label("4110") == "Clients web"
    assert chart.label("4457BE") == "TVA BE"
    assert chart.label("4457DE") == "Taxes sur le chiffre d'affaires collectées par l'entreprise"
    assert chart.label("41110000") == "Clients"  # another account: the PCG's name
    assert chart.label("99") is None
    assert Chart().label("51200000") == "Banques"


def test_read_chart_separators_header_and_bom(tmp_path: Path) -> None:
    semicolon = tmp_path / "plan.csv"
    semicolon.write_text("\ufeffCompte;Libellé\n411000;Clients web\n\n707200;Ventes 20 %\n",
                         encoding="utf-8")  # fmt: skip
    assert read_chart(semicolon) == {"411000": "Clients web", "707200": "Ventes 20 %"}
    tab = tmp_path / "plan.txt"
    tab.write_text('512000\tBanque "CIC"\n627800\tFrais, commissions\n', encoding="utf-8")
    assert read_chart(tab) == {"512000": 'Banque "CIC"', "627800": "Frais, commissions"}
    comma = tmp_path / "plan2.csv"
    comma.write_text('411000,"Clients, web"\n', encoding="utf-8")
    assert read_chart(comma) == {"411000": "Clients, web"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("411000;Clients\n707200\n", "plan.csv:2: expected an account and its name"),
        ("411000;Clients\n;Ventes\n", "plan.csv:2: expected an account and its name"),
        ("411000;Clients\n411000;Autres\n", "plan.csv:2: account 411000 is named twice"),
    ],
)
def test_read_chart_errors_are_located(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "plan.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ChartError, match=message):
        read_chart(path)


def test_read_chart_refuses_other_encodings(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_bytes("411000;Clients crédit\n".encode("cp1252"))
    with pytest.raises(ChartError, match="not UTF-8"):
        read_chart(path)
