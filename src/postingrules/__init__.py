"""postingrules: e-commerce shop documents → balanced accounting entries, driven by rule files.

The pipeline reads like the package: ``model`` (documents in, entries out) → ``dsl`` (rule
files: parse, check, compile) → ``engine`` (post) → ``formats`` (write) → ``cli``.

Exceptions::

    PostingRulesError            (base of errors raised to callers)
     ├── RulesError              a rule file with errors; carries every diagnostic
     └── UnknownFormatError      an export format name that is not registered

Documents that cannot be posted are not exceptions: they come back as ``Refusal`` values.
"""

from postingrules.dsl.diagnostics import Diagnostic, RulesError
from postingrules.model.documents import Payment, Refund, Sale
from postingrules.model.entries import Entry, EntryLine, Refusal, Skipped
from postingrules.ruleset import Ruleset, check_file, check_source, compile_source, load_ruleset

__all__ = [
    "Diagnostic",
    "Entry",
    "EntryLine",
    "Payment",
    "Refund",
    "Refusal",
    "RulesError",
    "Ruleset",
    "Sale",
    "Skipped",
    "check_file",
    "check_source",
    "compile_source",
    "load_ruleset",
]
