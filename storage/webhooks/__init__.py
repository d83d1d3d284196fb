"""Webhooks: endpoints registered through the API receive every notification,
block and transition of the ledger as a signed JSON POST, at least once.

- outbox.py: the events, written in the transaction of the change (session events);
- endpoints.py: register, list, read, delete endpoints; list and retry deliveries;
- dispatch.py: the dispatcher a server worker runs (claims with a lease, backoff);
- signing.py: the ``Tariff-Signature`` header, and how a receiver checks it.
"""
from . import endpoints, outbox, signing
from .dispatch import Dispatcher, Settings
from .endpoints import create, deliveries, delete, find, list_page, retry

outbox.install()

__all__ = ["Dispatcher", "Settings", "create", "deliveries", "delete", "endpoints", "find",
           "list_page", "outbox", "retry", "signing"]
