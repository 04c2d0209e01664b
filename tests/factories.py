"""factory_boy factories bound to the app's session."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory

from campaigns.models import Campaign, Goal
from core.extensions import db
from core.models import User
from core.security import hash_password

PASSWORD = "correct horse battery staple"


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Sequence(lambda n: f"User {n}")
    role = "marketer"
    active = True
    password_hash = factory.LazyFunction(lambda: hash_password(PASSWORD))


class CampaignFactory(Base):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    objective = "sales"
    channels_csv = ",meta_ads,influencers,"
    brand = "Stride"
    product = "AirRun"
    description = ""
    owner = factory.SubFactory(UserFactory)
    start_date = factory.LazyFunction(lambda: date.today() - timedelta(days=10))
    end_date = factory.LazyFunction(lambda: date.today() + timedelta(days=50))
    currency = "EUR"
    planned_budget_minor = 1_000_000
    status = "draft"


class GoalFactory(Base):
    class Meta:
        model = Goal

    campaign = factory.SubFactory(CampaignFactory)
    metric = "roas"
    direction = "at_least"
    baseline = Decimal("2")
    target = Decimal("3.5")
    deadline = factory.LazyAttribute(lambda g: g.campaign.end_date)
    owner = factory.LazyAttribute(lambda g: g.campaign.owner)
    channel = None
