"""Route × role expectations for the budgets blueprint (merged into tests/test_route_matrix.py)."""

EXPECTED: dict = {}


def make_sample(users) -> dict:
    """Create the objects the budget routes need; return ids for the URL templates."""
    return {}
