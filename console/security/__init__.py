"""Secrets at rest, random one-time values and their atomic redemption."""
