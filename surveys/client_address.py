"""The address of the person at the other end of a request, behind the proxies this site trusts.

Behind a reverse proxy REMOTE_ADDR is the proxy's address. Each proxy appends the address it
received the request from to a header (X-Forwarded-For), so with N trusted proxies in front of
the web process the client is the Nth address from the right of that header. Anything further
left came from the client itself and may be forged; with no trusted proxy the header is ignored
altogether. The header is parsed by python-ipware (through django-ipware), not by hand.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip


def meta_key(header: str) -> str:
    """The WSGI name of an HTTP header: "X-Forwarded-For" is HTTP_X_FORWARDED_FOR."""
    return "HTTP_" + header.strip().upper().replace("-", "_")


def client_address(request: HttpRequest) -> str | None:
    """The client's address per TRUSTED_PROXY_COUNT and CLIENT_IP_HEADER; None when the request
    names none (one made inside the process, not received from a network).

    A request whose header holds fewer addresses than there are trusted proxies did not come
    through them all; it falls back to REMOTE_ADDR rather than believe the header.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    address, _ = get_client_ip(
        request,
        proxy_count=proxies - 1,
        request_header_order=[meta_key(settings.CLIENT_IP_HEADER)],
        strict=False,
    )
    return address or remote


def address_block(address: str | None) -> str:
    """What a limit counts as one client: an IPv4 address, or the first address of an IPv6
    address's /64 network. A home or phone connection is given a whole /64 (2^64 addresses), so
    counting IPv6 by address would let one client past any per-address limit by changing its
    last bits."""
    if not address:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6 and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address)
    return str(getattr(parsed, "ipv4_mapped", None) or parsed)


def client_block(request: HttpRequest) -> str | None:
    """The client's address_block, for the login lockout (django-axes)."""
    address = client_address(request)
    return address and address_block(address)
