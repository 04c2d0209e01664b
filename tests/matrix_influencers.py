"""Route × role expectations for the influencers blueprint (see tests/test_route_matrix.py)."""

EXPECTED: dict = {}


def make_sample(users) -> dict:
    """Create the objects the influencer routes need; return ids for the URL templates."""
    return {}
