"""Sign-in, sign-out and accepting an invitation."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from core.auth import services
from core.auth.forms import LoginForm, SetPasswordForm
from core.extensions import db
from core.security import safe_next

bp = Blueprint("auth", __name__)

# Routes anyone may reach; the role-matrix test reads this.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.accept_invite", "static", "health"})


def client_ip() -> str:
    # Behind a proxy, configure ProxyFix (see README) so remote_addr is the client's.
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("dashboard.index"))
    form = LoginForm(next=request.args.get("next", ""))
    refusal = None
    status, headers = 200, {}
    if form.validate_on_submit():
        user, refusal = services.authenticate(form.email.data, form.password.data, client_ip())
        db.session.commit()
        if user is not None:
            # Flask-Login does not rotate the session: clear it so a planted one is useless.
            session.clear()
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(form.next.data) or url_for("dashboard.index"))
        status = 401
        if refusal and refusal.retry_after:
            status, headers = 429, {"Retry-After": str(refusal.retry_after)}
    elif request.method == "POST":
        status = 400
    error = refusal.message if refusal else None
    return render_template("auth/login.html", form=form, error=error), status, headers


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Rotating the token ends this session and every remember-me cookie for the user.
    current_user.rotate_session_token()
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    user = services.user_from_invite(token)
    if user is None:
        return render_template("auth/invite_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(user, form.password.data)
        except services.AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            flash("Welcome to Flightdeck. Your password is set.", "success")
            return redirect(url_for("dashboard.index"))
    current_app.logger.info("invitation opened for user %s", user.id)
    return render_template("auth/invite.html", form=form, user=user)
