"""Flightdeck core: app factory, extensions, money, auth, permissions, audit, jobs."""
