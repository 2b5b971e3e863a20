"""Safe file writing: whole files or nothing, no clobbering, names that stay in their folder.

Exports are imported by accounting software that reads whatever it finds in a folder, often
on a schedule: a half-written file (crash, Ctrl-C, full disk) would be imported as if it were
complete, and an export that silently overwrote last month's file would lose it.  So
:func:`atomic_output` writes to a temporary file beside the target, flushes it to disk and
only then moves it into place in one step (``os.replace``, or a hard link when overwriting is
not allowed so that a file appearing meanwhile is not clobbered either).

File names come from user templates such as ``ventes_{date:%Y%m%d}.txt``.  They are rendered by
:class:`FileNameTemplate`, a small parser that knows three placeholders (``{date:<strftime>}``,
``{kind}``, ``{siren}``) — never ``str.format``, which would let a template
reach object attributes (``{date.__class__}``) — and the result must be a plain file name:
no ``/``, ``\\``, ``:``, ``..`` or absolute path, so a template cannot escape the output folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# OptionError and did_you_mean live in postingrules.formats.base, but importing that module
# runs postingrules.formats/__init__, whose text.py imports this module: imported at module
# level they made `import postingrules.files` (or postingrules.export) fail when it came first
# (circular import).  They are imported where an error is raised (_option_error).


def _option_error(message: str) -> ValueError:
    """An :class:`~postingrules.formats.base.OptionError` (imported here: see the imports)."""
    from postingrules.formats.base import OptionError

    return OptionError(message)


def _did_you_mean(name: str, candidates: tuple[str, ...]) -> str:
    from postingrules.formats.base import did_you_mean

    return did_you_mean(name, candidates)


class OutputExistsError(FileExistsError):
    """The target file exists and overwriting was not asked for."""


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[BinaryIO]:
    """Yield a binary file that becomes ``path`` only when the ``with`` block completes.

    On any exception, ``KeyboardInterrupt`` included, the temporary file is removed and
    ``path`` is left as it was.  An existing ``path`` is refused (:class:`OutputExistsError`)
    unless ``overwrite`` is true.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target}: file exists (use overwrite to replace it)")
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            # mkstemp creates 0600; an export is an ordinary file, readable as the umask allows.
            os.fchmod(out.fileno(), 0o666 & ~_umask())
            os.fsync(out.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if the target appeared meanwhile: no clobbering
            except FileExistsError:
                raise OutputExistsError(f"{target}: file exists (created meanwhile)") from None
            tmp.unlink()
        _fsync_folder(folder)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


PLACEHOLDERS = ("date", "kind", "siren")

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]|[^{}]+")
_STRFTIME = re.compile(r"^(?:%[aAbBdHjmMSyYUWuVGe%]|[A-Za-z0-9_\-. ])+$")
_VALUE = re.compile(r"^[A-Za-z0-9_\-.]+$")


@dataclass(frozen=True)
class _Field:
    name: str
    spec: str


class FileNameTemplate:
    """A checked file-name template; :meth:`render` gives a name safe inside the output folder.

    ``{date:%Y%m%d}`` takes a strftime pattern (``%Y %m %d %y %j %H %M %S %a %A %b %B %U %W
    %u %V %G %e``, letters, digits, ``_ - .`` and spaces); ``{kind}`` (the part: sales,
    refunds…) and ``{siren}`` are replaced by their value, which must itself be a plain word;
    ``{{`` and ``}}`` write a brace.  Errors are :class:`OptionError`, raised when the template is built
    (profile load, rule compile), not when the first file is written.
    """

    def __init__(self, template: str) -> None:
        self.template = template
        self.parts: list[str | _Field] = []
        for match in _TOKEN.finditer(template):
            token = match.group(0)
            if token in ("{{", "}}"):
                self.parts.append(token[0])
            elif token in ("{", "}"):
                raise _option_error(f"file name template {template!r}: unmatched {token!r}")
            elif match.group(1) is not None:
                self.parts.append(self._field(match.group(1)))
            else:
                self.parts.append(token)
        if not self.parts:
            raise _option_error("file name template is empty")
        for part in self.parts:
            if isinstance(part, str):
                _check_chars(part, template)

    def _field(self, body: str) -> _Field:
        name, _, spec = body.partition(":")
        if name not in PLACEHOLDERS:
            raise _option_error(
                f"file name template {self.template!r}: unknown placeholder {{{name}}}"
                f"{_did_you_mean(name, PLACEHOLDERS)} (known: {', '.join(PLACEHOLDERS)})"
            )
        if name == "date":
            if not spec:
                spec = "%Y%m%d"
            elif not _STRFTIME.match(spec):
                raise _option_error(
                    f"file name template {self.template!r}: date pattern {spec!r} may only use "
                    "%Y %m %d %y %j %H %M %S %a %A %b %B %U %W %u %V %G %e, letters, digits, "
                    "'_', '-', '.' and spaces"
                )
        elif spec:
            raise _option_error(
                f"file name template {self.template!r}: {{{name}}} takes no format ({spec!r})"
            )
        return _Field(name, spec)

    @property
    def placeholders(self) -> set[str]:
        return {p.name for p in self.parts if isinstance(p, _Field)}

    def render(
        self,
        *,
        date: dt.date | None = None,
        kind: str | None = None,
        siren: str | None = None,
    ) -> str:
        """The file name; :class:`OptionError` when a value is missing or unsafe."""
        values = {"kind": kind, "siren": siren}
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif part.name == "date":
                if date is None:
                    raise _option_error(f"file name template {self.template!r} needs a date")
                out.append(date.strftime(part.spec))
            else:
                value = values[part.name]
                if value is None:
                    raise _option_error(f"file name template {self.template!r} needs {part.name}")
                if not _VALUE.match(value):
                    raise _option_error(
                        f"file name template {self.template!r}: {part.name} value {value!r} "
                        "may only hold letters, digits, '_', '-' and '.'"
                    )
                out.append(value)
        name = "".join(out)
        _check_name(name, self.template)
        return name


def _check_chars(text: str, template: str) -> None:
    bad = next((c for c in ("/", "\\", ":", "\0") if c in text), None)
    if bad is not None:
        raise _option_error(f"file name template {template!r}: {bad!r} is not allowed in a name")


def _check_name(name: str, template: str) -> None:
    """A single plain file name: no folder separator, drive, parent reference or NUL."""
    _check_chars(name, template)
    if name in (".", "..") or name.startswith("..") or not name.strip():
        raise _option_error(f"file name template {template!r}: {name!r} is not a file name")
