"""Getting a freshly started web worker ready before it takes its first request (``infra/gunicorn.conf.py``).

Two costs otherwise land on the requests a new worker serves first, and on every request later:

* **Templates** compile on first use: the first search page a worker renders took ~130 ms more than the next ones
  (the base layout, the search page and their macros). :func:`warm_up` compiles every template up front.
* **The garbage collector's full collections.** After start-up a worker holds ~300,000 long-lived objects (modules,
  SQLAlchemy mappers and compiled statements, templates, schemas); every full collection walks them all. Requests
  leave cyclic garbage, so a full collection ran every ~110 requests and stopped the worker for 150–200 ms on an
  idle machine (up to ~2 s with the CPU shared), with every request queued behind it waiting too: that was the
  p99. :func:`warm_up` moves what exists after start-up into the permanent generation (``gc.freeze``), which the
  collector never walks: a full collection then takes ~5 ms.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from flask import Flask


def warm_up(app: Any) -> dict[str, float]:
    """Compile ``app``'s templates (when it is a Flask app) and freeze the objects alive now out of the collector's
    reach. Returns what it did: templates compiled, objects frozen, seconds taken."""
    started = time.perf_counter()
    compiled = 0
    if isinstance(app, Flask):
        environment = app.jinja_env
        for name in environment.list_templates(filter_func=lambda name: name.endswith((".html", ".txt", ".xml"))):
            environment.get_template(name)
            compiled += 1
    gc.collect()
    gc.freeze()
    return {"templates": compiled, "frozen": gc.get_freeze_count(), "seconds": time.perf_counter() - started}
