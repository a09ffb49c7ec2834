"""A new web worker is made ready before its first request: templates compiled, start-up objects frozen out of the
garbage collector's reach (marketplace/warmup.py, called from infra/gunicorn.conf.py's ``post_worker_init``)."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import Flask

from marketplace.warmup import warm_up

ROOT = Path(__file__).resolve().parents[2]


def test_warm_up_compiles_every_template_and_freezes_the_start_up_objects(app: Flask) -> None:
    loaded: list[str] = []
    loader = app.jinja_env.loader
    assert loader is not None
    original = loader.get_source

    def counting(environment: Any, name: str) -> Any:
        loaded.append(name)
        return original(environment, name)

    app.jinja_env.cache.clear()  # type: ignore[union-attr]
    loader.get_source = counting  # type: ignore[method-assign]
    try:
        done = warm_up(app)
        # Frozen objects may still be freed (or a thread's leftovers frozen too) by the time we look again.
        assert done["frozen"] > 10_000 and gc.get_freeze_count() > 10_000
    finally:
        loader.get_source = original  # type: ignore[method-assign]
        gc.unfreeze()
    assert "catalog/search.html" in loaded and "base.html" in loaded
    assert done["templates"] == len(loaded) > 20
    # Compiled once: rendering the search page later loads no template source again.
    loaded.clear()
    with app.test_request_context():
        app.jinja_env.get_template("catalog/search.html")
    assert loaded == []


def test_warm_up_of_another_wsgi_app_only_freezes() -> None:
    try:
        done = warm_up(lambda environ, start_response: [])
        assert done["templates"] == 0 and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_gunicorn_warms_each_worker_and_recycles_workers_rarely(monkeypatch: Any) -> None:
    settings = runpy.run_path(str(ROOT / "infra" / "gunicorn.conf.py"))
    # Each recycle is a cold worker and a slow spell for the others: a backstop against leaks, not a routine.
    assert settings["max_requests"] >= 20_000
    seen: list[Any] = []
    monkeypatch.setattr(
        "marketplace.warmup.warm_up", lambda app: seen.append(app) or {"templates": 1, "frozen": 2, "seconds": 0.1}
    )
    worker = SimpleNamespace(wsgi=object(), log=SimpleNamespace(info=lambda *args: None))
    settings["post_worker_init"](worker)
    assert seen == [worker.wsgi]
