"""Notification pages: the list at ``/notifications`` (paged; mark one or all read) and the preferences in the
account settings; plus the bell's unread count for the page header. Views parse, call one service, render."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from marketplace.notifications import services
from marketplace.notifications.kinds import NotificationKind
from marketplace.web import current_user, login_required, redirect_to, require_user, safe_next, uow

bp = Blueprint("notifications", __name__)


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


@bp.get("/notifications")
@login_required
def index() -> str:
    """The user's notifications, newest first; ``?unread=1`` shows only the unread ones."""
    unread_only = request.args.get("unread") == "1"
    page = services.list_page(uow().session, require_user(), _page_number(), unread_only=unread_only)
    return render_template("notifications/index.html", page=page, unread_only=unread_only)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int) -> WerkzeugResponse:
    """Mark one notification read, then go back to the list (or to the notification's page with ``open``)."""
    notification = services.mark_read(uow(), require_user(), notification_id)
    if request.form.get("open") and notification.link:
        return redirect_to_path(notification.link)
    return redirect_to_path(safe_next(request.form.get("next"), "/notifications"))


@bp.post("/notifications/read-all")
@login_required
def mark_all_read() -> WerkzeugResponse:
    count = services.mark_all_read(uow(), require_user())
    flash(f"{count} notification(s) marked read." if count else "Nothing was unread.", "success")
    return redirect_to("notifications.index")


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def preferences() -> str | WerkzeugResponse:
    """For each kind of notice: in the site, by mail, both or neither."""
    user = require_user()
    if request.method == "POST":
        chosen = {
            kind: services.Choice(in_site=f"{kind}:site" in request.form, by_mail=f"{kind}:mail" in request.form)
            for kind in NotificationKind
            if kind.value in request.form.getlist("kind")  # the kinds the form showed; others keep their choice
        }
        services.save_preferences(uow(), user, chosen)
        flash("Your notification preferences are saved.", "success")
        return redirect_to("notifications.preferences")
    return render_template("notifications/preferences.html", rows=services.preferences(uow().session, user))


def redirect_to_path(path: str) -> WerkzeugResponse:
    """A redirect to a same-site ``path`` (anything else: the list)."""
    return redirect(safe_next(path, "/notifications"))


def init_app(app: Flask) -> None:
    """Register the pages and the header's ``unread_notifications()`` (one COUNT, called for signed-in pages only)."""
    app.register_blueprint(bp)

    @app.context_processor
    def _bell() -> dict[str, object]:
        return {"unread_notifications": lambda: services.unread_count(uow().session, current_user())}
