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


def demo_users() -> dict[Role, User]:
    password = current_app.config["DEMO_PASSWORD"]
    users: dict[Role, User] = {}
    for role, name in DEMO_USERS.items():
        email = f"{role.value}@flightdeck.test"
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(email, name, role.value)
        user.password_hash = hash_password(password)
        user.role, user.active = role.value, True
        users[role] = user
    db.session.flush()
    return users


def seed() -> dict[str, int]:
    from ads.demo import seed_ads
    from budgets.demo import seed_budgets
    from campaigns.demo import seed_campaigns
    from influencers.demo import seed_influencers

    users = demo_users()
    summary = {"users": len(users)}
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
