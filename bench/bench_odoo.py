"""plugbay's own share of an Odoo call: the connector and MCP against a bare RPC request.

The same read (``res.partner`` ``search_read`` of one record by id, two fields) runs three
ways against the fake Odoo of ``plugbay-testing``, served over real HTTP on 127.0.0.1,
one call at a time, in one process:

- ``raw``: the least any async client must do: the ``execute_kw`` request marshalled by
  hand (``xmlrpc.client.dumps`` or ``json.dumps``), POSTed over a pooled
  ``httpx.AsyncClient`` with the session's uid, and the answer unmarshalled;
- ``connector``: the connector's ``search_read`` method, called directly: what the plugin
  adds (access policy, domain and field checks against the cached schema, the
  transport, the result shaped), without any MCP;
- ``mcp``: the ``<instance>_search_read`` tool through a real ``mcp.Client`` connected to
  the assembled plugbay server in memory (``plugbay_testing.serve``): the plugin plus
  the host (argument validation, structured result) and the protocol.

Odoo's users expect answers well under 200 ms; the report gives each path's median and
p99 latency, the fake server's own handling time per call, and plugbay's share:
``connector - raw`` and ``mcp - raw`` in microseconds and as a fraction of 200 ms.

    python bench/bench_odoo.py [--calls 2000] [--rounds 4] [--transports xmlrpc,jsonrpc] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import sys
import xmlrpc.client
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from harness import comma_list, lookup_parser, median_and_p99_us, print_report, timed

from plugbay_odoo import OdooConnector
from plugbay_odoo.fake import OdooFake
from plugbay_testing import serve

PATHS = ("raw", "connector", "mcp")
BUDGET_US = 200_000.0
"""The latency Odoo users expect a call to stay well under: 200 ms."""
FIELDS = ["name", "email"]
MODEL = "res.partner"

Lookup = Callable[[int], Awaitable[list[dict[str, Any]]]]


@dataclass
class Result:
    """The measurements of one transport."""

    transport: str
    calls: int
    median_us: dict[str, float] = field(default_factory=dict)
    p99_us: dict[str, float] = field(default_factory=dict)
    server_us: float = 0.0
    """The fake's own handling time per call (parse, run, marshal), median path."""
    share_us: dict[str, float] = field(default_factory=dict)
    """Median latency above the raw request, per path."""
    share_of_budget: dict[str, float] = field(default_factory=dict)


def _raw_lookup(client: httpx.AsyncClient, fake: OdooFake, transport: str, key: str) -> Lookup:
    """``execute_kw`` by hand: the baseline every client pays."""
    ids = itertools.count(1)

    async def xmlrpc_lookup(partner_id: int) -> list[dict[str, Any]]:
        options = {"domain": [["id", "=", partner_id]], "fields": FIELDS}
        params: tuple[Any, ...] = (fake.database, 2, key, MODEL, "search_read", [], options)
        body = xmlrpc.client.dumps(params, "execute_kw", allow_none=True).encode()
        response = await client.post(
            "/xmlrpc/2/object", content=body, headers={"Content-Type": "text/xml"}
        )
        (result,), _ = xmlrpc.client.loads(response.content, use_builtin_types=True)
        rows: list[dict[str, Any]] = result  # type: ignore[assignment]
        return rows

    async def jsonrpc_lookup(partner_id: int) -> list[dict[str, Any]]:
        args = [fake.database, 2, key, MODEL, "search_read", [],
                {"domain": [["id", "=", partner_id]], "fields": FIELDS}]  # fmt: skip
        call = {"service": "object", "method": "execute_kw", "args": args}
        payload = {"jsonrpc": "2.0", "method": "call", "id": next(ids), "params": call}
        response = await client.post(
            "/jsonrpc", content=json.dumps(payload), headers={"Content-Type": "application/json"}
        )
        rows: list[dict[str, Any]] = response.json()["result"]
        return rows

    return xmlrpc_lookup if transport == "xmlrpc" else jsonrpc_lookup


def _connector_lookup(connector: OdooConnector) -> Lookup:
    async def lookup(partner_id: int) -> list[dict[str, Any]]:
        page = await connector.search_read(MODEL, [["id", "=", partner_id]], FIELDS)
        return page["records"]

    return lookup


def _mcp_lookup(call: Callable[..., Awaitable[Any]]) -> Lookup:
    async def lookup(partner_id: int) -> list[dict[str, Any]]:
        arguments = {"model": MODEL, "domain": [["id", "=", partner_id]], "fields": FIELDS}
        result = await call("bench_search_read", arguments)
        if result.is_error:
            raise RuntimeError(result.content[0].text)
        rows: list[dict[str, Any]] = result.structured_content["records"]
        return rows

    return lookup


async def _timed(lookup: Lookup, ids: Sequence[int], expected: dict[int, str]) -> list[float]:
    return await timed(
        lookup,
        ids,
        lambda partner_id, rows: [row["name"] for row in rows] == [expected[partner_id]],
    )


async def measure(fake: OdooFake, transport: str, options: argparse.Namespace) -> Result:
    """Time the three paths over one transport."""
    fake.reset()
    expected = {row["id"]: row["name"] for row in fake.records(MODEL) if row.get("active", True)}
    partner_ids = sorted(expected)
    settings = fake.settings(models={MODEL: ["read"]}, transport=transport)
    key = settings["api_key"]
    rng = random.Random(options.seed)
    samples: dict[str, list[float]] = {path: [] for path in PATHS}
    server: list[float] = []
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
    async with (
        httpx.AsyncClient(base_url=fake.url, limits=limits, timeout=30) as client,
        serve(OdooConnector, settings=settings, instance="bench") as harness,
    ):
        connector = harness.connector
        assert isinstance(connector, OdooConnector)
        lookups = {
            "raw": _raw_lookup(client, fake, transport, key),
            "connector": _connector_lookup(connector),
            "mcp": _mcp_lookup(harness.client.call_tool),
        }
        for lookup in lookups.values():
            await _timed(lookup, [rng.choice(partner_ids) for _ in range(options.warmup)], expected)
        per_round = max(1, options.calls // options.rounds)
        for _round in range(options.rounds):
            for path in PATHS:
                ids = [rng.choice(partner_ids) for _ in range(per_round)]
                before = fake.handling_seconds
                samples[path] += await _timed(lookups[path], ids, expected)
                if path == "raw":
                    server.append((fake.handling_seconds - before) / per_round)
    result = Result(transport, calls=len(samples["raw"]), server_us=statistics.median(server) * 1e6)
    for path in PATHS:
        result.median_us[path], result.p99_us[path] = median_and_p99_us(samples[path])
    for path in ("connector", "mcp"):
        share = result.median_us[path] - result.median_us["raw"]
        result.share_us[path] = share
        result.share_of_budget[path] = share / BUDGET_US
    return result


def report(results: Sequence[Result]) -> None:
    """Print one table row per transport and path, then plugbay's share."""
    print(f"{MODEL} search_read of one record by id, one call at a time, fake Odoo on 127.0.0.1")
    print(f"{'transport':<10} {'path':<10} {'median us':>10} {'p99 us':>10} {'above raw us':>13}")
    for result in results:
        for path in PATHS:
            share = result.share_us.get(path)
            above = f"{share:>13.0f}" if share is not None else f"{'':>13}"
            print(
                f"{result.transport:<10} {path:<10} {result.median_us[path]:>10.0f} "
                f"{result.p99_us[path]:>10.0f} {above}"
            )
        print(
            f"{result.transport:<10} fake Odoo handling: {result.server_us:.0f} us per call; "
            f"plugbay's share of a 200 ms budget: connector "
            f"{result.share_of_budget['connector']:.2%}, through MCP "
            f"{result.share_of_budget['mcp']:.2%}"
        )


async def run(options: argparse.Namespace) -> list[Result]:
    """Serve the fake and measure every requested transport."""
    results = []
    with OdooFake.serve() as fake:
        for transport in options.transports:
            results.append(await measure(fake, transport, options))
    return results


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = lookup_parser(__doc__)
    parser.add_argument(
        "--transports",
        type=comma_list,
        default=["xmlrpc", "jsonrpc"],
        help="comma-separated: xmlrpc, jsonrpc",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    options = parser.parse_args(argv)
    unknown = set(options.transports) - {"xmlrpc", "jsonrpc"}
    if unknown:
        parser.error(f"unknown transports: {', '.join(sorted(unknown))}")
    return options


def main(argv: Sequence[str] | None = None) -> list[Result]:
    """Run the benchmark and print its report."""
    options = parse_args(argv)
    results = asyncio.run(run(options))
    print_report([asdict(result) for result in results], options.json, lambda _: report(results))
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
