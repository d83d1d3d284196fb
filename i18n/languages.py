"""The languages end-user messages exist in.

Kept apart from everything else so that negotiation, loading and checking
all agree on one list: adding a language is one edit here plus a catalog.
"""

# Order matters twice: it is the order catalogs are checked in, and a `*` in
# Accept-Language picks the first of these the client did not name.
SUPPORTED = ("en", "ru", "id", "fr", "de", "it")

# English is what the service answers in when nothing better can be agreed.
DEFAULT = "en"
