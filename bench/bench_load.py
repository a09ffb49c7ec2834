"""Load on the whole stack: N people search, open the listing, check out, pay in the sandbox and download, for S s.

Starts the stack of the stack test (``tests/support/stack.py``: gunicorn with ``infra/gunicorn.conf.py`` and
``--workers`` workers, the job worker when the checkout has one, an S3-compatible server, a scratch PostgreSQL
database and Redis db 13; migrated and seeded with the CLI), or reuses a running one (``--base-url`` with
``--database-url``, seeded with ``marketplace seed``). Each of ``--users`` client threads logs in as its own buyer
and repeats the flow until ``--seconds`` have passed:

    new buyer organisation (setup: an organisation holds an offer once)
    search       GET /datasets?q=...
    dataset      GET /datasets/instruction-pairs-starter
    checkout     POST /cart/add, GET /cart, POST /checkout (sandbox checkout session)
    pay          GET + POST the sandbox page, return to the order, GET the license manifest
    download     POST a file's download link (audited), GET its bytes from S3, check the SHA-256

and it prints flows and requests per second, p50/p95/p99 per step and the errors. The load generator runs on the
same machine as the stack (it competes with it for the CPU). Never part of the test run's pass/fail.

    .venv/bin/python bench/bench_load.py                       # 60 s, 8 users
    .venv/bin/python bench/bench_load.py --seconds 20 --users 4 --json
    .venv/bin/python bench/bench_load.py --quick               # 10 s, 2 users; skipped (exit 0) without the stack
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.stack import Stack, StackUnavailable  # noqa: E402
from tests.support.stack_flows import DOWNLOADABLE, FlowError, Shopper  # noqa: E402

STEPS = ("login", "new_org", "search", "dataset", "checkout", "pay", "download")
TIMED = ("search", "dataset", "checkout", "pay", "download")
QUERIES = ("instruction pairs", "instruction", "starter pack", "pairs starter")
PASSWORD = "bench-load-passphrase"  # the bench's own throwaway accounts


def make_buyers(database_url: str, count: int, profile: str) -> list[str]:
    """Create ``count`` verified buyer accounts (each logs in once; organisations are made per flow)."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from marketplace.accounts.models import User
    from marketplace.accounts.passwords import hasher_for
    from marketplace.config import normalise_database_url
    from marketplace.db import utcnow

    engine = sa.create_engine(normalise_database_url(database_url))
    hashed = hasher_for(profile).hash(PASSWORD)
    run = uuid.uuid4().hex[:6]
    emails = [f"load-{run}-{n}@example.org" for n in range(count)]
    with Session(engine) as session:
        for email in emails:
            session.add(User(email=email, display_name=email.split("@")[0], password_hash=hashed,
                             email_verified_at=utcnow()))  # fmt: skip
        session.commit()
    engine.dispose()
    return emails


class Recorder:
    """Durations per step, errors per step (with a few examples), requests and completed flows."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.durations: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.examples: list[str] = []
        self.requests = 0
        self.flows = 0
        self.bytes = 0
        self.returns_lost = 0

    def timed(self, step: str, call: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            result = call(*args)
        except Exception as error:
            with self.lock:
                self.errors[step] += 1
                if len(self.examples) < 5:
                    detail = str(error) if isinstance(error, FlowError) else traceback.format_exc(limit=3)
                    self.examples.append(f"{step}: {detail[:600]}")
            raise
        with self.lock:
            self.durations[step].append(time.perf_counter() - started)
        return result

    def count_request(self, response: Any, *args: Any, **kwargs: Any) -> None:
        with self.lock:
            self.requests += 1


def user_loop(base_url: str, email: str, number: int, deadline: float, rec: Recorder) -> None:
    shopper = Shopper(base_url, email, PASSWORD)
    shopper.http.hooks["response"].append(rec.count_request)
    try:
        rec.timed("login", shopper.log_in)
    except Exception:
        return
    iteration = 0
    while time.monotonic() < deadline:
        iteration += 1
        try:
            licensee = rec.timed(
                "new_org", shopper.new_buyer_organisation, f"Load {number}-{iteration} {uuid.uuid4().hex[:6]}"
            )
            rec.timed("search", shopper.search, QUERIES[iteration % len(QUERIES)], DOWNLOADABLE)
            offer = rec.timed("dataset", shopper.dataset_page, DOWNLOADABLE)
            checkout = rec.timed("checkout", shopper.checkout, offer, licensee)
            purchase = rec.timed("pay", shopper.pay, checkout)
            content = rec.timed("download", shopper.download, purchase.grant_id,
                                purchase.files[iteration % len(purchase.files)])  # fmt: skip
        except Exception:
            time.sleep(0.2)  # an error ends this flow; the user starts the next one
            continue
        with rec.lock:
            rec.flows += 1
            rec.bytes += len(content)
    with rec.lock:
        rec.returns_lost += shopper.returns_lost


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def report(rec: Recorder, elapsed: float, args: argparse.Namespace, stack: Stack | None) -> dict[str, Any]:
    steps = {}
    for step in STEPS:
        values = rec.durations.get(step, [])
        steps[step] = {
            "count": len(values),
            "errors": rec.errors.get(step, 0),
            "p50_ms": round(percentile(values, 50) * 1000, 1),
            "p95_ms": round(percentile(values, 95) * 1000, 1),
            "p99_ms": round(percentile(values, 99) * 1000, 1),
            "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else None,
        }
    return {
        "seconds": round(elapsed, 1),
        "users": args.users,
        "web_workers": args.workers,
        "cpus": os.cpu_count(),
        "flows": rec.flows,
        "flows_per_second": round(rec.flows / elapsed, 2),
        "requests": rec.requests,
        "requests_per_second": round(rec.requests / elapsed, 1),
        "downloaded_bytes": rec.bytes,
        "errors": sum(rec.errors.values()),
        # Sandbox payments completed in another web worker than the one that made the session lose the return URL.
        "sandbox_returns_to_order_list": rec.returns_lost,
        "error_examples": rec.examples,
        "steps": steps,
        "stack": {
            "s3": args.s3,
            "start_seconds": stack.timings if stack else None,
            "job_worker": bool(stack and "worker" in stack.processes),
        },
        # The machine's load (1-minute average) when the run started and ended: other work skews the figures.
        "load_average": [round(x, 2) for x in args.load_average] + [round(os.getloadavg()[0], 2)],
    }


def print_report(result: dict[str, Any]) -> None:
    print(f"\n{result['users']} users for {result['seconds']} s against gunicorn ({result['web_workers']} workers), "
          f"{result['cpus']} CPUs shared with the load generator; S3 server: {result['stack']['s3']}; "
          f"job worker: {'yes' if result['stack']['job_worker'] else 'no (jobs in the web processes)'}")  # fmt: skip
    print(f"sandbox payments that returned to My orders (completed in another worker): "
          f"{result['sandbox_returns_to_order_list']}")  # fmt: skip
    print(f"machine load average (1 min) at the start and the end of the run: {result['load_average']}")
    print(
        f"flows completed: {result['flows']} ({result['flows_per_second']}/s); "
        f"HTTP requests: {result['requests']} ({result['requests_per_second']}/s); errors: {result['errors']}"
    )
    print(f"\n{'step':<10}{'count':>7}{'errors':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for step, row in result["steps"].items():
        mark = "" if step in TIMED else "  (setup)"
        print(f"{step:<10}{row['count']:>7}{row['errors']:>8}{row['p50_ms']:>10}{row['p95_ms']:>10}"
              f"{row['p99_ms']:>10}{row['mean_ms'] if row['mean_ms'] is not None else '-':>10}{mark}")  # fmt: skip
    for example in result["error_examples"]:
        print("error:", example)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the load runs (default 60)")
    parser.add_argument("--users", type=int, default=8, help="concurrent users (threads; default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of a started stack (default 2)")
    parser.add_argument("--s3", choices=("moto", "s3rver"), default="moto", help="S3 server of a started stack")
    parser.add_argument("--base-url", help="reuse a running, seeded stack at this address (with --database-url)")
    parser.add_argument("--database-url", help="the reused stack's PostgreSQL database (buyers are added to it)")
    parser.add_argument("--hasher", default="RFC_9106_LOW_MEMORY", help="password hash profile of the site")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--quick", action="store_true", help="10 s with 2 users; a machine without the stack's services skips it"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.users = min(args.seconds, 10), min(args.users, 2)

    stack: Stack | None = None
    workdir = tempfile.TemporaryDirectory(prefix="bench-load-")
    try:
        if args.base_url:
            if not args.database_url:
                parser.error("--base-url needs --database-url (the bench adds its buyers to that database)")
            base_url, database_url = args.base_url, args.database_url
        else:
            stack = Stack(Path(workdir.name), web_workers=args.workers, s3_server=args.s3,
                          extra_env={"PASSWORD_HASHER_PROFILE": args.hasher})  # fmt: skip
            try:
                stack.start()
            except StackUnavailable as missing:
                print(f"bench_load: cannot start the stack: {missing}", file=sys.stderr)
                return 0 if args.quick else 2  # `make bench` runs on machines without PostgreSQL or Redis too
            base_url, database_url = stack.base_url, stack.database_url
            if not args.json:
                print(f"stack up at {base_url} in {sum(stack.timings.values()):.0f} s of steps {stack.timings}")
        emails = make_buyers(database_url, args.users, args.hasher)
        args.load_average = [os.getloadavg()[0]]
        rec = Recorder()
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [threading.Thread(target=user_loop, args=(base_url, email, n, deadline, rec), daemon=True)
                   for n, email in enumerate(emails)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 120)
        result = report(rec, time.monotonic() - started, args, stack)
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print_report(result)
        return 0
    finally:
        if stack is not None:
            stack.stop()
        workdir.cleanup()


if __name__ == "__main__":
    sys.exit(main())
