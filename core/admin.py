"""User administration and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from core.auth import services
from core.auth.forms import UserCreateForm, UserEditForm
from core.extensions import db
from core.links import NoPublicAddress, external_url
from core.models import AuditEntry, Role, User
from core.params import page_arg
from core.permissions import get_for, require

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@require("user.manage")
def users():
    stmt = select(User).order_by(User.active.desc(), User.email)
    return render_template("admin/users.html", users=db.session.scalars(stmt).all())


@bp.route("/users/new", methods=["GET", "POST"])
@require("user.manage")
def user_new():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                form.email.data, form.name.data, form.role.data, form.password.data or None
            )
        except services.PasswordRejected as exc:
            form.password.errors.append(str(exc))
        except services.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            if form.password.data:
                flash(f"{user.email} can now sign in.", "success")
                return redirect(url_for("admin.users"))
            return _invitation_page(user, created=True)
    return render_template("admin/user_form.html", form=form, user=None), (
        400 if form.errors else 200
    )


def _last_active_admin(user: User) -> bool:
    """True when no other admin could sign in: an invitation not yet accepted (no password)
    does not count, or the last real admin could demote themselves and lock everyone out."""
    if user.role != Role.ADMIN.value or not user.active:
        return False
    others = db.session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.ADMIN.value,
            User.active.is_(True),
            User.password_hash.is_not(None),
            User.id != user.id,
        )
    )
    return not others


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require("user.manage")
def user_edit(user_id: int):
    user = get_for(User, user_id, "user.manage")
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        demoting = form.role.data != Role.ADMIN.value or not form.active.data
        if demoting and _last_active_admin(user):
            form.role.errors.append("This is the last active admin: keep at least one.")
        else:
            was_active, old_role = user.active, user.role
            user.name = form.name.data.strip()
            user.role = form.role.data
            user.active = form.active.data
            if (was_active and not user.active) or old_role != user.role:
                # Deactivation and role changes end existing sessions at once.
                user.rotate_session_token()
            db.session.commit()
            if user.id == current_user.id and not user.active:
                abort(403)
            flash(f"{user.email} updated.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user), (
        400 if form.errors else 200
    )


@bp.route("/users/<int:user_id>/invite", methods=["POST"])
@require("user.manage")
def user_reinvite(user_id: int):
    user = get_for(User, user_id, "user.manage")
    return _invitation_page(user)


def _invitation_page(user: User, created: bool = False):
    """The link to send, built from the configured address (never the request's Host)."""
    try:
        invite_url = external_url("auth.accept_invite", token=services.invite_token(user))
    except NoPublicAddress as exc:
        return render_template("admin/invited.html", user=user, invite_error=str(exc))
    if created:
        flash(f"Invitation created for {user.email}. Send them the link below.", "success")
    return render_template("admin/invited.html", user=user, invite_url=invite_url)


@bp.route("/audit")
@require("audit.view")
def audit():
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    object_type = request.args.get("type", "").strip()
    q = request.args.get("q", "").strip()
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(AuditEntry.object_label.ilike(like), AuditEntry.actor_label.ilike(like))
        )
    page = db.paginate(stmt, page=page_arg(), per_page=50, error_out=False)
    types = db.session.scalars(select(AuditEntry.object_type).distinct().order_by("object_type"))
    return render_template(
        "admin/audit.html", page=page, types=list(types), object_type=object_type, q=q
    )
