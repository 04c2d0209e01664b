"""Object rules for budget permissions (role gates are in core/permissions.py's budgets block).

Registered into core.permissions.OBJECT_RULES when the blueprint is registered, so
`get_for(AllocationLine, id, "budget.view")` refuses a marketer another marketer's line and a
coordinator any line but an influencer one.
"""

from __future__ import annotations

from typing import Any

from core.models import Role

INFLUENCERS = "influencers"


def _line_campaign_owner(obj: Any) -> int | None:
    campaign = getattr(obj, "campaign", None)
    return getattr(campaign, "owner_id", None)


def can_see_line(user: Any, obj: Any) -> bool:
    if not hasattr(obj, "channel"):  # a budget: every role may open it, lines are filtered
        return True
    role = Role(user.role)
    if role is Role.MARKETER:
        return _line_campaign_owner(obj) == user.id
    if role is Role.COORDINATOR:
        return obj.channel == INFLUENCERS
    return True


def can_request_on(user: Any, obj: Any) -> bool:
    """Marketers act on lines of campaigns they own; finance on any line."""
    if not hasattr(obj, "channel"):
        return True
    if Role(user.role) is Role.MARKETER:
        return _line_campaign_owner(obj) == user.id
    return True


def can_see_reallocation(user: Any, obj: Any) -> bool:
    if Role(user.role) is Role.MARKETER:
        return user.id == obj.requested_by_id or (
            can_see_line(user, obj.from_line) and can_see_line(user, obj.to_line)
        )
    if Role(user.role) is Role.COORDINATOR:
        return can_see_line(user, obj.from_line) and can_see_line(user, obj.to_line)
    return True


def visible(user: Any, line: Any) -> bool:
    return can_see_line(user, line)


RULES = {
    "budget.view": lambda user, obj: (
        can_see_reallocation(user, obj) if hasattr(obj, "from_line") else can_see_line(user, obj)
    ),
    "budget.request": can_request_on,
}
