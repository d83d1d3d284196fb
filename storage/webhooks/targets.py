"""Where deliveries may go. With private targets refused (``TARIFF_WEBHOOKS_PRIVATE_TARGETS=refuse``),
an endpoint's host must resolve only to public addresses: a caller who may
register endpoints cannot make the server POST into its own network
(loopback, private ranges, link-local such as cloud metadata) and read the
answers' statuses back from the deliveries. Checked when an endpoint is
registered and again before each attempt (a name can change what it resolves to).
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def non_public(url: str) -> str | None:
    """Why ``url``'s host is not a public address (None: it is)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return f"its host cannot be resolved ({exc})"
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return f"its host resolves to {address}, not a public address"
    return None
