"""Where Iziflux order files come from: a local folder/file, or the hourly URLs.

Why no API client: Iziflux documents no API.  Its PrestaShop module downloads one file per
hour from ``…/prestashop_<account>_<YYYY-MM-DD-HH-ii-ss>.txt`` over plain HTTP with the
account name as the only "credential".  This module lists those hourly URLs for a time
window (the template is configurable because the minute/second part could not be checked
on a real file), downloads them through the shared retrying HTTP layer, treats a 404 as
"no orders that hour", and decodes UTF-8 or, failing that, Windows-1252 (a French 2016
module's likely encoding).  Local files are read the same way, in name order, so an
accountant can drop a day's files in a folder.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from postingrules.connectors._http import RetryPolicy, ShopClient, ShopHTTPError
from postingrules.model.documents import Document

from .mapping import Importer, SetAside, Settings

DEFAULT_TEMPLATE = "{account}/prestashop_{account}_{hour:%Y-%m-%d-%H}-00-00.txt"
"""Relative to ``base_url`` (``http://www.<host>.com/iziflux/marketPlace/partenaires/prestashop``)."""


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def local_files(path: Path) -> Iterator[tuple[str, str]]:
    """``(name, text)`` of one file, or of every ``*.txt`` of a folder in name order."""
    files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
    for file in files:
        yield file.name, decode(file.read_bytes())


def hours(since: dt.datetime, until: dt.datetime) -> Iterator[dt.datetime]:
    """Every whole hour from ``since`` (rounded down) to ``until`` included."""
    hour = since.replace(minute=0, second=0, microsecond=0)
    while hour <= until:
        yield hour
        hour += dt.timedelta(hours=1)


def account_from_env(env: Mapping[str, str] | None = None, var: str = "IZIFLUX_ACCOUNT") -> str:
    """The account name that forms the file URLs (kept out of connection files)."""
    env = os.environ if env is None else env
    if not env.get(var):
        raise ValueError(f"set {var} to the Iziflux account name")
    return env[var]


@dataclass
class IzifluxClient:
    """Downloads the hourly files of one account and maps them."""

    base_url: str
    account: str = field(repr=False)
    template: str = DEFAULT_TEMPLATE
    retry: RetryPolicy | None = None
    timeout: float = 30.0
    transport: httpx.BaseTransport | None = None
    missing: list[str] = field(default_factory=list)
    http: ShopClient = field(init=False)

    def __post_init__(self) -> None:
        self.http = ShopClient(
            self.base_url.rstrip("/") + "/",
            platform="iziflux",
            retry=self.retry,
            timeout=self.timeout,
            transport=self.transport,
        )

    def __enter__(self) -> IzifluxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def files(self, since: dt.datetime, until: dt.datetime) -> Iterator[tuple[str, str]]:
        """``(name, text)`` of each hourly file that exists; absent hours go to ``missing``."""
        for hour in hours(since, until):
            name = self.template.format(account=self.account, hour=hour)
            try:
                raw, _ = self.http.request_bytes("GET", name)
            except ShopHTTPError as exc:
                if exc.status != 404:
                    raise
                self.missing.append(hour.isoformat(timespec="minutes"))
                continue
            self.http.stats.pages += 1
            yield hour.isoformat(timespec="minutes"), decode(raw)

    def fetch(
        self,
        settings: Settings,
        since: dt.datetime,
        until: dt.datetime,
        *,
        kinds: Sequence[str] = ("sale", "payment"),
    ) -> tuple[list[Document], list[SetAside]]:
        documents, aside = Importer(settings).read_all(self.files(since, until))
        return [d for d in documents if d.kind in kinds], aside
