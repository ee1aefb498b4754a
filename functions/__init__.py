"""Operational code deployed (or run) by the tiers; each folder is one Lambda package or CLI."""
