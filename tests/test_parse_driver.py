"""The parse loop (``parse._Driver``) against Lark's own parser, which it stands in for;
and the compile's pause of the garbage collector.

The driver runs Lark's tables in one loop for speed and leaves every syntax error to Lark.
So on every rule text we have (shipped rulesets, the language reference's examples, the
diagnostics table's snippets, the benchmark's 500-row file) it must build exactly the AST
that Lark's ``parse`` builds, and on every text Lark refuses it must give up rather than
guess.
"""

from __future__ import annotations

import gc
import re
import sys
from pathlib import Path

import pytest
from lark.exceptions import UnexpectedInput
from tests.test_diagnostics import BROKEN, CASES, PRELUDE, _source

from postingrules.dsl import parse as parse_module
from postingrules.dsl.diagnostics import RulesError
from postingrules.dsl.parse import _GIVE_UP, _driver, parser
from postingrules.ruleset import check_source, compile_source, gc_paused

ROOT = Path(__file__).resolve().parents[1]


def _texts() -> list[tuple[str, str]]:
    texts = [(p.name, p.read_text("utf-8")) for p in sorted((ROOT / "rulesets").glob("*.rules"))]
    language = (ROOT / "docs" / "language.md").read_text("utf-8")
    blocks = re.findall(r"```rules\n(.*?)```", language, flags=re.S)
    texts += [(f"language.md#{i}", block) for i, block in enumerate(blocks)]
    texts += [(case.id, _source(case)) for case in CASES]
    texts += [(f"broken-{i}", PRELUDE + text + "\n") for i, text in enumerate(BROKEN)]
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_engine

        texts.append(("bench-500", bench_engine.ruleset_500()))
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return texts


TEXTS = _texts()


def _lark(text: str) -> object:
    try:
        return parser().parse(text)
    except UnexpectedInput:
        return _GIVE_UP


def test_the_corpus_has_both_kinds() -> None:
    outcomes = [_lark(text) is _GIVE_UP for _, text in TEXTS]
    assert outcomes.count(True) >= 20 and outcomes.count(False) >= 60


@pytest.mark.parametrize(("name", "text"), TEXTS, ids=[name for name, _ in TEXTS])
def test_driver_builds_what_lark_builds_or_gives_up(name: str, text: str) -> None:
    with parse_module._PARSING:
        parser().options.transformer.file = name
        expected = _lark(text)
        got = _driver().parse(text)
    assert got == expected


# How a file's whitespace may differ from the corpus's: Windows line ends, no final newline,
# tabs, a comment closing the file without a newline, a file of nothing but blanks or comments;
# keywords written where a name is expected (`debit`, `account` as set members or table keys).
LAYOUTS = {
    "crlf": lambda text: text.replace("\n", "\r\n"),
    "no-final-newline": lambda text: text.rstrip("\n"),
    "tabs": lambda text: text.replace("    ", "\t"),
    "comment-at-end": lambda text: text.rstrip("\n") + "  # the end",
    "blank-start": lambda text: " \t\r\n#\n\f" + text,
}
ODD_TEXTS = [
    "",
    "# only a comment",
    " \r\n\t\f",
    "currency EUR#no space before the comment",
    "set debit = {debit credit account tax sales}\n",
    PRELUDE + "vat by (debit) {\n    debit, 1 -> account x, name y\n}\n",
    'ruleset "é\\"\\t"\ncurrency EUR',
]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_driver_builds_what_lark_builds_whatever_the_layout(layout: str) -> None:
    texts = [LAYOUTS[layout](text) for _, text in TEXTS] + ODD_TEXTS
    with parse_module._PARSING:
        parser().options.transformer.file = layout
        for text in texts:
            assert _driver().parse(text) == _lark(text), repr(text[:80])


def test_driver_gives_up_on_a_token_no_state_takes() -> None:
    text = PRELUDE + "sale { journal }\n"
    assert _lark(text) is _GIVE_UP
    assert _driver().parse(text) is _GIVE_UP


def test_compiling_pauses_the_collector_and_restores_it() -> None:
    seen: list[bool] = []
    with gc_paused():
        seen.append(gc.isenabled())
    assert seen == [False] and gc.isenabled()
    with pytest.raises(RulesError):
        compile_source(PRELUDE + "sale { journal }\n", "bad.rules")
    assert gc.isenabled()  # restored after an error too
    assert check_source(PRELUDE, "ok.rules").diagnostics == []
    assert gc.isenabled()
    gc.disable()
    try:
        compile_source(PRELUDE, "ok.rules")
        assert not gc.isenabled()  # a caller's choice is left as it was
    finally:
        gc.enable()
