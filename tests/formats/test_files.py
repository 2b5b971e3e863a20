"""Safe file writing: atomic replacement, no clobbering, templates that stay in their folder."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from postingrules.files import FileNameTemplate, OutputExistsError, atomic_output
from postingrules.formats.base import OptionError


def test_file_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with atomic_output(target) as out:
        out.write(b"hello")
        assert not target.exists()
    assert target.read_bytes() == b"hello"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_interrupted_write_leaves_nothing(tmp_path: Path, exc: type[BaseException]) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(exc), atomic_output(target) as out:
        out.write(b"half")
        raise exc()
    assert list(tmp_path.iterdir()) == []


def test_interrupted_overwrite_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_output(target, overwrite=True) as out:
        out.write(b"new")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]


def test_existing_file_refused_unless_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_bytes(b"old")
    with pytest.raises(OutputExistsError), atomic_output(target):
        pass
    assert target.read_bytes() == b"old"
    with atomic_output(target, overwrite=True) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new"


def test_file_created_meanwhile_is_not_clobbered(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(OutputExistsError), atomic_output(target) as out:
        out.write(b"mine")
        target.write_bytes(b"theirs")
    assert target.read_bytes() == b"theirs"
    assert list(tmp_path.iterdir()) == [target]


def test_template_renders_known_placeholders() -> None:
    template = FileNameTemplate("ventes_{date:%Y%m%d}_{kind}.txt")
    assert template.render(date=dt.date(2025, 3, 14), kind="sales") == "ventes_20250314_sales.txt"
    assert (
        FileNameTemplate("{siren}FEC{date}.txt").render(
            siren="123456782", date=dt.date(2025, 12, 31)
        )
        == "123456782FEC20251231.txt"
    )
    assert FileNameTemplate("a{{b}}_{kind}").render(kind="sales") == "a{b}_sales"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("../ventes.txt", "'/' is not allowed"),
        ("/etc/passwd", "'/' is not allowed"),
        ("..\\x.txt", "'\\\\\\\\' is not allowed"),
        ("C:x.txt", "':' is not allowed"),
        ("{dat}.txt", "did you mean 'date'"),
        ("{journal}.txt", "unknown placeholder"),  # no export is split by journal
        ("{date.__class__}.txt", "unknown placeholder"),
        ("{kind!r}.txt", "unknown placeholder"),
        ("{date:%D}.txt", "date pattern"),
        ("{kind:>10}.txt", "takes no format"),
        ("ventes_{date.txt", "unmatched"),
        ("", "empty"),
    ],
)
def test_bad_templates_refused_when_built(template: str, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        FileNameTemplate(template)


@pytest.mark.parametrize("siren", ["../x", "a/b", "..", "VT E"])
def test_unsafe_values_refused(siren: str) -> None:
    with pytest.raises(OptionError):
        FileNameTemplate("{siren}").render(siren=siren)


def test_missing_value_refused() -> None:
    with pytest.raises(OptionError, match="needs a date"):
        FileNameTemplate("v_{date}.txt").render()


# Imports every public module as if it came first in a fresh interpreter: importing any
# submodule runs the package's __init__ first, so after `import postingrules` only our other
# modules are removed between two imports (third-party ones stay loaded, for speed).
_FIRST_IMPORTS = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import postingrules
    loaded = set(sys.modules)
    names = sorted(
        m.name for m in pkgutil.walk_packages(postingrules.__path__, "postingrules.")
        if not any(part.startswith("_") for part in m.name.split("."))
    )
    for name in names:
        for key in [k for k in sys.modules if k.startswith("postingrules.") and k not in loaded]:
            del sys.modules[key]
        try:
            importlib.import_module(name)
        except Exception as err:
            print(f"{name}: {type(err).__name__}: {err}")
    print(len(names), "modules")
    """
)


def test_every_public_module_imports_first_without_a_cycle() -> None:
    """`import postingrules.files` first used to fail: files -> formats -> text -> files."""
    result = subprocess.run(
        [sys.executable, "-c", _FIRST_IMPORTS], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    *errors, count = result.stdout.splitlines()
    assert errors == []
    assert int(count.split()[0]) > 40  # the walk found the package's modules
