"""The ``marketplace-client`` command: search, download and verify from a shell.

Configuration: ``--base-url`` or ``MARKETPLACE_URL``, ``--api-key`` or ``MARKETPLACE_API_KEY``.

Exit codes:

* 0 - success (``verify``: the certificate is valid);
* 1 - the API refused the request (the error's code and message are printed), or the network failed;
* 2 - bad usage (an unknown option, missing configuration, an unreadable certificate or JWKS file);
* 3 - ``verify``: the certificate is not valid (reason printed);
* 4 - ``download``: a file did not match the manifest's SHA-256 or size (it was deleted).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from .client import Client
from .errors import IntegrityError, MarketplaceError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INVALID, EXIT_INTEGRITY = 0, 1, 2, 3, 4
_LICENSE_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marketplace-client",
        description="Search, download and verify licensed datasets from a dataset marketplace.",
        epilog="Exit codes: 0 ok, 1 API or network error, 2 usage, 3 certificate not valid, 4 file does not match "
        "its manifest.",
    )
    parser.add_argument("--base-url", default=os.environ.get("MARKETPLACE_URL"), help="the site (MARKETPLACE_URL)")
    parser.add_argument("--api-key", default=os.environ.get("MARKETPLACE_API_KEY"), help="(MARKETPLACE_API_KEY)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per HTTP request (default 30)")
    parser.add_argument("--max-retries", type=int, default=4, help="retries on 429/503/broken connections")
    commands = parser.add_subparsers(dest="command", required=True)

    search = commands.add_parser("search", help="search the catalog (every page)")
    search.add_argument("query", nargs="?", default="")
    search.add_argument("--facet", action="append", default=[], metavar="K=V", help="filter, repeatable")
    search.add_argument("--sort", choices=["relevance", "newest", "price"])
    search.add_argument("--limit", type=int, default=0, help="stop after this many hits (0: all)")
    search.add_argument("--json", action="store_true", help="one JSON object per hit")

    download = commands.add_parser("download", help="download a licensed version, verifying every SHA-256")
    download.add_argument("slug")
    download.add_argument("--version", help="version label (default: the newest the license covers)")
    download.add_argument("--dest", default=".", help="directory to write into (default: .)")
    download.add_argument("--parallel", type=int, default=4, help="files at a time (default 4)")
    download.add_argument("--quiet", action="store_true", help="no progress on stderr")

    verify = commands.add_parser("verify", help="verify a license certificate offline")
    verify.add_argument("certificate", metavar="CERTIFICATE_FILE_OR_LICENSE_ID")
    verify.add_argument("--jwks", help="the marketplace's public keys as a file (default: fetched once)")
    verify.add_argument("--json", action="store_true", help="print the result and claims as JSON")
    return parser


def _facets(pairs: Sequence[str]) -> dict[str, list[str]]:
    facets: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--facet takes NAME=VALUE, not {pair!r}")
        facets.setdefault(name, []).append(value)
    return facets


def _search(client: Client, args: argparse.Namespace) -> int:
    hits = client.search_all(args.query, facets=_facets(args.facet), sort=args.sort)
    for count, hit in enumerate(hits, start=1):
        if args.json:
            print(json.dumps(hit.raw, ensure_ascii=False, default=str))
        else:
            print(f"{hit.slug}\t{hit.latest_version or '-'}\t{hit.title}")
        if args.limit and count >= args.limit:
            break
    return EXIT_OK


def _download(client: Client, args: argparse.Namespace) -> int:
    done = client.download(args.slug, args.dest, version=args.version, parallel=args.parallel, progress=not args.quiet)
    for item in done:
        print(f"{item.sha256}  {item.local_path}")
    print(f"{len(done)} file(s) downloaded and verified", file=sys.stderr)
    return EXIT_OK


def _verify(client: Client, args: argparse.Namespace) -> int:
    if not Path(args.certificate).exists() and _LICENSE_ID.match(args.certificate):
        result = client.verify_certificate(client.certificate(args.certificate))
    else:
        result = client.verify_certificate(Path(args.certificate))
    if args.json:
        print(json.dumps({**asdict(result)}, ensure_ascii=False, indent=2))
    elif result.valid and result.claims is not None:
        claims = result.claims
        dataset = claims["dataset"].get("slug") or claims["dataset"].get("id")
        print(f"valid: license {claims['sub']} ({claims['license_id']}) held by {claims['licensee']} on {dataset}")
    else:
        print(f"not valid ({result.reason}): {result.message}", file=sys.stderr)
    return EXIT_OK if result.valid else EXIT_INVALID


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (see the module documentation)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.base_url:
        parser.error("give the site with --base-url or MARKETPLACE_URL")
    run = {"search": _search, "download": _download, "verify": _verify}[args.command]
    try:
        client = Client(
            args.base_url,
            args.api_key,
            timeout=args.timeout,
            max_retries=args.max_retries,
            jwks=getattr(args, "jwks", None),
        )
        return run(client, args)
    except (ValueError, OSError) as error:
        print(f"marketplace-client: {error}", file=sys.stderr)
        return EXIT_USAGE
    except IntegrityError as error:
        print(f"marketplace-client: {error}", file=sys.stderr)
        return EXIT_INTEGRITY
    except MarketplaceError as error:
        print(f"marketplace-client: {error}", file=sys.stderr)
        return EXIT_ERROR
