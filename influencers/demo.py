"""Demo influencers (filled in by the influencers issue)."""


def seed_influencers(users) -> dict[str, int]:
    return {}
