"""Demo data for `make run`: idempotent, realistic, never run outside demo seeding."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from core.auth.services import create_user
from core.extensions import db
from core.models import Role, User
from core.security import hash_password

DEMO_USERS = {
    Role.ADMIN: "Ada Admin",
    Role.MARKETER: "Mia Marketer",
    Role.FINANCE: "Felix Finance",
    Role.COORDINATOR: "Cora Coordinator",
    Role.VIEWER: "Vic Viewer",
}


class DemoRefused(RuntimeError):
    """Demo seeding asked for where it must not run."""


def demo_users() -> tuple[dict[Role, User], int]:
    """The demo users by role, and how many this call created.

    Only an account this call creates gets the published demo password. An existing account is
    left exactly as it is: its password is never reset, a deactivated one is never re-activated
    and its role is never changed (someone decided those; re-running the seed must not undo it).
    """
    password = current_app.config["DEMO_PASSWORD"]
    users: dict[Role, User] = {}
    created = 0
    for role, name in DEMO_USERS.items():
        email = f"{role.value}@flightdeck.test"
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(email, name, role.value)
            user.password_hash = hash_password(password)
            created += 1
        users[role] = user
    db.session.flush()
    return users, created


def seed(force_in_production: bool = False) -> dict[str, int]:
    """Create the demo users and data; refuse under the production configuration unless
    forced (the demo users' password is published in the README)."""
    if current_app.config.get("ENV_NAME") == "production" and not force_in_production:
        raise DemoRefused(
            "Refusing to seed demo data under the production configuration "
            "(FLIGHTDECK_ENV=production): the demo users' password is public. "
            "Pass --force-demo-in-production only on a throwaway installation."
        )
    from ads.demo import seed_ads
    from budgets.demo import seed_budgets
    from campaigns.demo import seed_campaigns
    from influencers.demo import seed_influencers

    users, created = demo_users()
    summary = {"users created": created, "users kept as they were": len(users) - created}
    summary.update(seed_campaigns(users))
    summary.update(seed_ads(users))
    # Budgets first: influencer contracts must fit inside approved influencer allocations.
    summary.update(seed_budgets(users))
    summary.update(seed_influencers(users))
    # Goal progress from everything the seeders stored (synced and budget-side spend alike).
    from analytics.services import refresh_goals
    from campaigns.models import Campaign

    refresh_goals(db.session.scalars(select(Campaign.id)).all())
    return summary
