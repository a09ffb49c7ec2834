"""The WSGI entry point for production servers: ``gunicorn -c infra/gunicorn.conf.py marketplace.wsgi:app``.

Settings the application refuses (an unsafe production value, an unparseable one) end the process with one line
per problem on stderr and exit status 2, not a traceback. ``infra/gunicorn.conf.py`` loads the application once in
gunicorn's master process (:func:`load`) before any worker starts, so a refusal stops gunicorn itself with status 2
instead of workers failing one after another.
"""

from __future__ import annotations

from flask import Flask

from marketplace import create_app
from marketplace.config import ConfigError, exit_refusing


def load() -> Flask:
    """The application from the environment, or exit 2 naming each setting it refuses."""
    try:
        return create_app()
    except ConfigError as error:
        exit_refusing(error)


app = load()
