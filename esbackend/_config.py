"""The backend URL: parsing, validation and a printable form without the password.

The URL is ``scheme://[user[:password]@]host[:port][,host[:port]...][/index[/doc_type]]``.
Celery hands the backend the part after ``esbackend+`` (``esbackend+https://...`` gives
``https://...``), or the whole URL when there is no ``+`` (``esbackend://...``,
``elasticsearch://...``), whose scheme then means "the default scheme".

We parse it ourselves instead of with ``kombu.utils.url`` because kombu cannot express
several hosts (``h1:9200,h2:9200`` fails its port parsing) and silently turns a bad port
into an exception that prints the whole URL, password included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from celery.exceptions import ImproperlyConfigured

__all__ = ["SCHEMES", "ParsedURL", "mask_url", "parse_url"]

#: Schemes the backend accepts; ``None`` means "use ``ElasticsearchBackend.scheme``".
SCHEMES: dict[str, str | None] = {
    "http": "http",
    "https": "https",
    "esbackend": None,
    "elasticsearch": None,
}

_MASK = "****"
_BRACKETED = re.compile(r"^\[(?P<host>[^\]]+)\](?::(?P<port>.*))?$")


@dataclass(frozen=True)
class ParsedURL:
    """What a backend URL says; ``None`` fields fall back to the class defaults."""

    scheme: str | None = None
    hosts: tuple[tuple[str | None, int | None], ...] = ()
    username: str | None = None
    password: str | None = None
    index: str | None = None
    doc_type: str | None = None


def mask_url(url: str) -> str:
    """Return *url* with the password (if any) replaced by ``****``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, path = rest.partition("/")
    userinfo, at, hostinfo = netloc.rpartition("@")
    if not at:
        return url
    user, colon, _password = userinfo.partition(":")
    masked = f"{user}:{_MASK}" if colon else user
    return f"{scheme}://{masked}@{hostinfo}{slash}{path}"


def _bad(problem: str, url: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"esbackend: {problem} in result backend URL {mask_url(url)!r}")


def _parse_port(text: str, url: str) -> int:
    if not text.isdigit():
        raise _bad(f"port {text!r} is not an integer", url)
    port = int(text)
    if not 0 < port < 65536:
        raise _bad(f"port {port} is out of range 1-65535", url)
    return port


def _parse_host(text: str, url: str) -> tuple[str | None, int | None]:
    if text.startswith("["):  # an IPv6 literal: [::1]:9200
        match = _BRACKETED.match(text)
        if match is None:
            raise _bad(f"malformed IPv6 host {text!r}", url)
        port = match.group("port")
        return f"[{match.group('host')}]", (None if port is None else _parse_port(port, url))
    host, colon, port = text.partition(":")
    if ":" in port:
        raise _bad(f"malformed host {text!r} (IPv6 addresses go in brackets)", url)
    if any(c.isspace() or c in "/?#@[]" for c in host):
        raise _bad(f"malformed host {host!r}", url)
    return (host or None), (_parse_port(port, url) if colon else None)


def parse_url(url: str) -> ParsedURL:
    """Parse a backend URL; raise ``ImproperlyConfigured`` naming what is wrong."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise _bad("missing '://' (expected scheme://host:port/index)", url)
    if scheme.lower() not in SCHEMES:
        supported = ", ".join(sorted(SCHEMES))
        raise _bad(f"unsupported scheme {scheme!r} (supported: {supported})", url)
    if "?" in rest or "#" in rest:
        # The built-in backend silently ignored a query string; options that matter
        # (TLS, certificates) belong in ``elasticsearch_client_options`` instead.
        raise _bad(
            "query strings and fragments are not supported "
            "(use the elasticsearch_client_options setting)",
            url,
        )
    netloc, _, path = rest.partition("/")
    userinfo, at, hostinfo = netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    hosts: tuple[tuple[str | None, int | None], ...] = ()
    if hostinfo:
        parts = hostinfo.split(",")
        if any(not part for part in parts):
            raise _bad("empty host in the host list", url)
        hosts = tuple(_parse_host(part, url) for part in parts)
    index = doc_type = None
    segments = [unquote(s) for s in path.strip("/").split("/") if s] if path else []
    if len(segments) > 2:
        raise _bad("too many path segments (expected /index or /index/doc_type)", url)
    if segments:
        index = segments[0]
    if len(segments) == 2:
        doc_type = segments[1]
    return ParsedURL(
        scheme=SCHEMES[scheme.lower()],
        hosts=hosts,
        username=username,
        password=password,
        index=index,
        doc_type=doc_type,
    )
