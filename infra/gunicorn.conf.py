"""gunicorn settings for production: `gunicorn -c infra/gunicorn.conf.py "marketplace:create_app()"`."""

import multiprocessing
import os

from marketplace.logs import install_redaction

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
# The access log's request line and Referer carry e-mail tokens and download-link signatures in their query
# strings: redact them in the master, before any worker is forked, so every access and error line is clean
# whatever the app does (marketplace/logs.py).
install_redaction()
# The app sits behind a proxy in production; set TRUSTED_PROXIES so client addresses are right.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
