"""The data that flows through postingrules: shop documents in, journal entries out."""

from postingrules.model.documents import (
    Address,
    Customer,
    Document,
    Line,
    Payment,
    PaymentMethod,
    Refund,
    Sale,
    Source,
    Totals,
)
from postingrules.model.entries import Entry, EntryLine, Refusal, Skipped

__all__ = [
    "Address",
    "Customer",
    "Document",
    "Entry",
    "EntryLine",
    "Line",
    "Payment",
    "PaymentMethod",
    "Refund",
    "Refusal",
    "Sale",
    "Skipped",
    "Source",
    "Totals",
]
