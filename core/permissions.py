"""The one permission layer: role permissions plus object rules, used by every view.

`require(perm)` guards a view; `get_for(Model, id, perm)` fetches an object by id and
checks it in one step, so no view does a bare `get_or_404`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from core.extensions import db
from core.models import Role

A, M, F, C, V = Role.ADMIN, Role.MARKETER, Role.FINANCE, Role.COORDINATOR, Role.VIEWER
EVERYONE = frozenset(Role)

PERMISSIONS: dict[str, frozenset[Role]] = {
    "dashboard.view": EVERYONE,
    "campaign.view": EVERYONE,
    "campaign.create": frozenset({A, M}),
    "campaign.edit": frozenset({A, M}),
    "campaign.transition": frozenset({A, M}),
    "goal.edit": frozenset({A, M}),
    "user.manage": frozenset({A}),
    "audit.view": frozenset({A, F}),
    "job.view": frozenset({A, M, F, C}),
    "ads.view": EVERYONE,
    "ads.connect": frozenset({A, M}),
    "ads.sync": frozenset({A, M}),
    "ads.map": frozenset({A, M}),
    "ads.import": frozenset({A, M}),
    "performance.view": EVERYONE,
    "performance.export": frozenset({A, M, F}),
    # --- budgets (budgets issue owns this block) ---
    # Everyone may open budgets; budgets/rules.py narrows which lines each role sees.
    "budget.view": EVERYONE,
    "budget.manage": frozenset({F}),  # create and edit budgets, thresholds, close a period
    "budget.request": frozenset({M, F}),  # allocation lines, phasing, reallocation requests
    "budget.approve": frozenset({F}),  # decide lines and reallocations (never one's own)
    "budget.export": frozenset({A, F}),
    "finance.view": frozenset({A, F, V}),  # the finance dashboard
    "fx.view": frozenset({A, M, F, V}),
    "fx.manage": frozenset({F}),
    # --- end budgets ---
    # --- influencers (influencers issue owns this block) ---
    # Coordinators own roster, partnerships, deliverables and payments; marketers approve
    # content and read everything; finance reads and sees payments; viewers read.
    "influencer.view": EVERYONE,
    "influencer.edit": frozenset({A, C}),
    "influencer.import": frozenset({A, C}),
    "partnership.view": EVERYONE,
    "partnership.edit": frozenset({A, C}),
    "deliverable.edit": frozenset({A, C}),
    # Taking a deliverable step; which step each role may take is checked per step.
    "deliverable.step": frozenset({A, M, C}),
    "payment.view": frozenset({A, M, F, C}),
    "payment.manage": frozenset({A, C}),
    "orders.import": frozenset({A, C}),
    # --- end influencers ---
}

# Object rules: permission -> check(user, obj). Roles listed in PERMISSIONS pass the role
# gate first; these then narrow it to the objects the user may act on.
ObjectRule = Callable[[Any, Any], bool]


def _owner_or_admin(user: Any, obj: Any) -> bool:
    return user.role == Role.ADMIN or getattr(obj, "owner_id", None) == user.id


OBJECT_RULES: dict[str, ObjectRule] = {
    "campaign.edit": _owner_or_admin,
    "campaign.transition": _owner_or_admin,
    "goal.edit": _owner_or_admin,
}


def register(permission: str, roles: frozenset[Role], rule: ObjectRule | None = None) -> None:
    """Feature packages add their permissions here at import of their views."""
    PERMISSIONS[permission] = roles
    if rule is not None:
        OBJECT_RULES[permission] = rule


def can(permission: str, obj: Any = None, user: Any = None) -> bool:
    user = user if user is not None else current_user
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    try:
        roles = PERMISSIONS[permission]
    except KeyError:
        raise KeyError(f"unknown permission {permission!r}") from None
    if Role(user.role) not in roles:
        return False
    if obj is not None and permission in OBJECT_RULES:
        return OBJECT_RULES[permission](user, obj)
    return True


F_ = TypeVar("F_", bound=Callable[..., Any])


def require(permission: str) -> Callable[[F_], F_]:
    """Log-in plus role check for a view."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorator(view: F_) -> F_:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


T = TypeVar("T")


def get_for(model: type[T], object_id: Any, permission: str) -> T:
    """Fetch `model` by id and check `permission` on it: 404 if absent, 403 if refused."""
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    if not can(permission, obj):
        abort(403)
    return obj
