"""Background jobs: one queue for everything that runs outside a request.

* :func:`marketplace.jobs.queue.enqueue` writes a job in the caller's transaction (the outbox);
* :mod:`marketplace.jobs.backends` carries job ids to workers: Dramatiq over Redis (``marketplace worker``) or, in
  development and tests, this very process;
* :mod:`marketplace.jobs.runner` runs a job once, committing its changes with its success;
* :mod:`marketplace.jobs.scheduler` enqueues the periodic jobs and publishes again what was lost;
* :mod:`marketplace.jobs.handlers` is the one table of job kinds and their code;
* :mod:`marketplace.jobs.views` is the administrators' dead-letter view.
"""
