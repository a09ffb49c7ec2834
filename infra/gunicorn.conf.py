"""gunicorn settings for production: `gunicorn -c infra/gunicorn.conf.py marketplace.wsgi:app`."""

import multiprocessing
import os

from marketplace.logs import install_redaction

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# WEB_CONCURRENCY is also the application's setting: with more than one worker, production needs REDIS_URL.
workers = int(
    os.environ.get("WEB_CONCURRENCY") or os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() * 2 + 1
)
# Synchronous workers, one request at a time each: gunicorn's `timeout` then bounds every request (a worker silent
# for longer, i.e. still inside one request, is killed and replaced). A threaded worker (gthread) keeps telling the
# master it is alive while one of its threads is stuck, so there the timeout would bound nothing. Slow clients are
# the proxy's business (it buffers requests and responses). `threads` must stay 1, or gunicorn switches to gthread.
worker_class = "sync"
threads = 1
# Longer than every limit inside a request (the database's DATABASE_STATEMENT_TIMEOUT_MS, outbound HTTP timeouts),
# so those answer first with a clear 503; this is the backstop.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Workers are recycled only as a backstop against a slow leak: a search worker's memory stays flat (198 MB from
# 1,000 to 6,000 requests, measured with bench/compare_peers.py's catalog). Every recycle costs a new worker ~2.5 s
# of CPU to build the application plus its warm-up (post_worker_init below), during which the other workers serve
# alone; at 2,000 requests that happened about every 40 s per worker under load, a recurring slow spell in the tail.
max_requests = 50_000
max_requests_jitter = 5_000
accesslog = "-"
errorlog = "-"
# The access log's request line and Referer carry e-mail tokens and download-link signatures in their query
# strings: redact them in the master, before any worker is forked, so every access and error line is clean
# whatever the app does (marketplace/logs.py).
install_redaction()
# The app sits behind a proxy in production; set TRUSTED_PROXIES so client addresses are right.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """Build the application once in the master, before any worker: refused settings stop gunicorn with one line
    per problem and exit status 2 (in a worker they would only make gunicorn restart workers, or halt with 3)."""
    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)  # the real count, whatever set it (-w, this file)
    from marketplace.metrics import clear_multiprocess_dir

    clear_multiprocess_dir()  # no counts left over from the previous run (PROMETHEUS_MULTIPROC_DIR)
    from marketplace import create_app
    from marketplace.config import ConfigError, exit_refusing

    try:
        trial = create_app()
    except ConfigError as error:
        exit_refusing(error)
    trial.extensions["marketplace.db"].dispose()  # workers build their own application and connections


def post_worker_init(worker):
    """Before a new worker takes its first request: compile every template and freeze the objects alive after
    start-up out of the garbage collector's reach (marketplace/warmup.py). Without it the first search page took
    ~130 ms more, and every ~110 requests a full collection walked ~300,000 start-up objects for 150-200 ms of CPU
    (seconds of wall time on a busy machine) while the requests queued behind it waited: the p99 tail."""
    from marketplace.warmup import warm_up

    done = warm_up(worker.wsgi)
    worker.log.info("worker ready: %d templates compiled, %d objects frozen in %.1f s", done["templates"],
                    done["frozen"], done["seconds"])  # fmt: skip


def child_exit(server, worker):
    """A worker exited: with PROMETHEUS_MULTIPROC_DIR set, drop its live gauges from the shared metrics files."""
    from marketplace.metrics import mark_process_dead

    mark_process_dead(worker.pid)
