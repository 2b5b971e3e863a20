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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx

from postingrules.connectors._http import RetryPolicy, ShopClient, ShopHTTPError
from postingrules.connectors.profile import Document, FetchRequest, Profile, SetAside

from .mapping import ColumnMap, Importer, Settings

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


def make_client(
    profile: Profile,
    *,
    retry: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ShopClient:
    """A client on the folder URL that holds the account's hourly files."""
    return ShopClient(
        profile.url.rstrip("/") + "/",
        platform="iziflux",
        timeout=float(profile.option("timeout", 30.0)),
        retry=retry,
        transport=transport,
    )


@dataclass
class IzifluxReader:
    """Downloads the hourly files of one account through a :class:`ShopClient`."""

    http: ShopClient
    account: str = field(repr=False)
    template: str = DEFAULT_TEMPLATE
    missing: list[str] = field(default_factory=list)

    def __enter__(self) -> IzifluxReader:
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


def settings_of(profile: Profile) -> Settings:
    """Options: ``columns`` (field → position or header name, over the defaults),
    ``prices_include_tax`` (default true), ``default_tax_rate``, ``default_country``."""
    columns = dict(profile.option("columns", {}))
    if isinstance(columns.get("customer_name"), list):
        columns["customer_name"] = tuple(columns["customer_name"])
    rate = profile.option("default_tax_rate")
    return Settings(
        shop=profile.shop,
        columns=ColumnMap(**columns),
        prices_include_tax=bool(profile.option("prices_include_tax", True)),
        default_tax_rate=None if rate is None else Decimal(str(rate)),
        default_country=profile.option("default_country"),
    )


def fetch(
    profile: Profile, request: FetchRequest, client: ShopClient
) -> Iterator[Document | SetAside]:
    """The connector contract.  ``url`` is the folder of hourly files; the account name is
    the credential role ``account`` (it is the only secret in the file URLs).  Option
    ``path`` reads a local file or folder instead; option ``template`` changes the file
    name pattern.  Without ``until`` the window ends now; without ``since`` it is 24 hours.
    An hour without a file (404) had no orders: it is not an error.
    """
    settings = settings_of(profile)
    local = profile.option("path")
    if local:
        documents, aside = Importer(settings).read_all(local_files(Path(local)))
    else:
        until = request.until or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        since = request.since or until - dt.timedelta(hours=24)
        reader = IzifluxReader(
            client, profile.secret("account"), str(profile.option("template", DEFAULT_TEMPLATE))
        )
        documents, aside = Importer(settings).read_all(reader.files(since, until))
    yield from (d for d in documents if d.kind in request.kinds)
    yield from aside
