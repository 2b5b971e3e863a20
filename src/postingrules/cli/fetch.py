"""``postingrules fetch PROFILE``: read a shop over its API and write documents as JSON Lines.

Why a separate command (not part of ``preview``): fetching is slow and bounded by the shop's
rate limit, so its output is kept in a file that ``preview``/``export`` can read again and
again.  Payloads that cannot be mapped are written to ``FILE.set-aside.jsonl`` with platform,
raw id and reason, listed in the summary, and make the exit code 1.  Credentials are read from
the environment variables the connection file names; they never reach the output, ``--verbose``
or error messages (the client masks them).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import BinaryIO

import click

from postingrules.connectors._http import CursorStore, ShopError
from postingrules.connectors.profile import (
    KINDS,
    FetchRequest,
    ProfileError,
    SetAside,
    load_profile,
    parse_when,
)
from postingrules.model.structs import encode_document


def _kinds(value: str) -> frozenset[str]:
    kinds = frozenset(k.strip() for k in value.split(",") if k.strip())
    unknown = kinds - KINDS
    if unknown or not kinds:
        raise click.BadParameter(f"choose among {', '.join(sorted(KINDS))}", param_hint="--kind")
    return kinds


@click.command("fetch")
@click.argument(
    "profile_path", metavar="PROFILE", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--since", help='ISO date or date-time (UTC), or "last" for since the last successful fetch.'
)
@click.option("--until", help="ISO date or date-time (UTC); a date means the end of that day.")
@click.option("--status", "statuses", help="Comma-separated statuses in the platform's vocabulary.")
@click.option(
    "--kind", "kinds", default="sale,refund,payment", show_default=True, help="Kinds to fetch."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSONL file (default: stdout).",
)
@click.option("-v", "--verbose", is_flag=True, help="Print the request counts and retry reasons.")
def fetch_command(
    profile_path: Path,
    since: str | None,
    until: str | None,
    statuses: str | None,
    kinds: str,
    output: Path | None,
    verbose: bool,
) -> None:
    """Fetch sales, refunds and payments from the shop described by PROFILE (a TOML file)."""
    try:
        profile = load_profile(profile_path)
    except ProfileError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        connector = importlib.import_module(f"postingrules.connectors.{profile.platform}")
    except ImportError:
        raise click.UsageError(f"the {profile.platform} connector is not available") from None
    store = CursorStore()
    since_text = since if since is not None else profile.since
    until_text = until if until is not None else profile.until
    kind_set = _kinds(kinds)
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    try:
        since_at = None
        if since_text == "last":
            remembered = [store.get(profile.cursor_key(k)) for k in sorted(kind_set)]
            since_at = min((parse_when(v) for v in remembered if v), default=None)
        elif since_text:
            since_at = parse_when(since_text)
        request = FetchRequest(
            since=since_at,
            until=parse_when(until_text, end=True) if until_text else None,
            statuses=tuple(s.strip() for s in (statuses or "").split(",") if s.strip()),
            kinds=kind_set,
        )
        client = connector.make_client(profile)
    except ProfileError as exc:
        raise click.UsageError(str(exc)) from None

    counts: Counter[str] = Counter()
    set_aside: list[SetAside] = []
    out: BinaryIO = output.open("wb") if output else sys.stdout.buffer
    progress = sys.stderr.isatty()
    try:
        with client:
            for item in connector.fetch(profile, request, client):
                if isinstance(item, SetAside):
                    set_aside.append(item)
                else:
                    out.write(encode_document(item) + b"\n")
                    counts[item.kind] += 1
                if progress:
                    done = sum(counts.values()) + len(set_aside)
                    click.echo(
                        f"\r{done} documents, {client.stats.pages} pages, {client.stats.retries} retries",
                        err=True,
                        nl=False,
                    )
    except ShopError as exc:
        if progress:
            click.echo("", err=True)
        click.echo(f"error: {profile.platform} {profile.shop}: {exc}", err=True)
        sys.exit(1)
    finally:
        if output:
            out.close()
        else:
            out.flush()
    if progress:
        click.echo("", err=True)
    if set_aside and output:
        aside_path = output.with_name(output.stem + ".set-aside.jsonl")
        aside_path.write_text(
            "".join(json.dumps(s.to_json(), ensure_ascii=False) + "\n" for s in set_aside),
            encoding="utf-8",
        )
    stats = client.stats
    by_kind = ", ".join(f"{counts[k]} {k}s" for k in ("sale", "refund", "payment") if k in kind_set)
    click.echo(
        f"{profile.platform} {profile.shop}: {by_kind}; {len(set_aside)} set aside; "
        f"{stats.pages} pages, {stats.requests} requests, {stats.retries} retries",
        err=True,
    )
    for reason, number in sorted(stats.skipped.items()):
        click.echo(f"  skipped: {number} × {reason}", err=True)
    if verbose:
        for reason, number in sorted(stats.retry_reasons.items()):
            click.echo(f"  retried: {number} × {reason}", err=True)
        click.echo(f"  waited {stats.waited:.1f}s, {stats.bytes} bytes", err=True)
    for item in set_aside:
        click.echo(
            f"  set aside: {item.platform} {item.kind} {item.raw_id}: {item.reason}", err=True
        )
    if set_aside:
        sys.exit(1)
    if since_text == "last" or profile.since == "last":
        moment = (request.until or started).isoformat()
        for kind in kind_set:
            store.set(profile.cursor_key(kind), moment)
