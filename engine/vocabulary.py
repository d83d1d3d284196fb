"""The words the engine decides in, defined once.

Roles, channels, limit levels and token classes are part of the engine's
contract: the request schema validates them, facts are named after them,
pricing iterates them. (Plans, seat types and products are the policy's:
`vocabulary.yaml` declares them and the loaded set carries them.) Event types
are in events.py, with what each one takes and gives.
"""
from __future__ import annotations

UNLIMITED = "unlimited"  # a spend limit that is not set
ROLES = ("primary_owner", "owner", "admin", "member")
CHANNELS = ("self_serve", "sales_assisted")
# Each limit level, and the part of a decision request that carries its spend, limit and notified threshold.
LEVEL_PARTS = {"organization": "organization", "seat_type": "seat_type_pool", "individual": "member"}
LEVELS = tuple(LEVEL_PARTS)
TOKEN_CLASSES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
PROMPT_CLASSES = ("input", "cache_write_5m", "cache_write_1h", "cache_read")  # the prompt, for long context
