"""Write examples/all.jsonl: every example document as JSON Lines, in a stable order.

Order: sales, then refunds, then payments; inside each folder, by file name.  Amounts keep
their exact text (``61.800000`` stays ``"61.800000"``, ``49.90`` stays ``49.90``): numbers are
parsed as ``Decimal`` and written back verbatim, never through ``float``.

    python examples/make_jsonl.py           # (re)write examples/all.jsonl
    python examples/make_jsonl.py --check   # exit 1 if all.jsonl is out of date
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
FOLDERS = ("sales", "refunds", "payments")
OUTPUT = HERE / "all.jsonl"

_MARK = "\x00num:"


def example_files() -> list[Path]:
    """Every example document file, in the order all.jsonl lists them."""
    return [path for folder in FOLDERS for path in sorted((HERE / folder).glob("*.json"))]


def _mark(value: object) -> str:
    if isinstance(value, Decimal):
        return _MARK + str(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


def to_line(path: Path) -> str:
    """One document file as a single compact JSON line (numbers written as they were read)."""
    document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=_mark)
    return _unmark(text)


def _unmark(text: str) -> str:
    """Replace every dumped marker string ``"\\u0000num:49.90"`` by the bare number ``49.90``."""
    out = []
    start = 0
    token = '"\\u0000num:'
    while (index := text.find(token, start)) != -1:
        end = text.index('"', index + len(token))
        out.append(text[start:index])
        out.append(text[index + len(token) : end])
        start = end + 1
    out.append(text[start:])
    return "".join(out)


def render() -> str:
    return "".join(to_line(path) + "\n" for path in example_files())


def main(argv: list[str]) -> int:
    content = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != content:
            print(f"{OUTPUT} is out of date: run python examples/make_jsonl.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(content, encoding="utf-8")
    print(f"wrote {len(example_files())} documents to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
