"""Notifications: what the marketplace tells each person, in the site (the bell and ``/notifications``) and by mail.

Every notice goes through :func:`marketplace.notifications.services.deliver`, which reads the recipient's
preference for its kind: a row in the site when they keep it on, a mail (queued after the commit) when they keep
that on. :mod:`marketplace.notifications.subscriber` is the one domain-event subscriber that turns events into
notices for the right people.
"""
