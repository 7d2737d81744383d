"""What stands between the browser and the routes of ``statjr serve``.

Any page the user's browser opens may be hostile.  A ``Host`` that is not this
server gets 400 (DNS rebinding); a POST needs an ``Origin`` (failing that a
``Referer``) of this server or gets 403; bodies are counted as they stream in
and stop at their limit; every response forbids sniffing and carries a
Content-Security-Policy (see :mod:`statjr_py.web.app` for the whole story).
"""
from __future__ import annotations

import logging
import re
from typing import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from ..errors import InputError

log = logging.getLogger("statjr_py.web")

_MB = 2 ** 20
MAX_FORM = _MB                  # any POST body but an upload
MULTIPART_SLACK = 64 * 1024     # boundaries and part headers around an uploaded file
#: Output and data views: no script, no plugins, framed only by the page itself.
VIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'"

_HOST = re.compile(r"\[([0-9a-f:.]+)\](?::(\d{1,5}))?|([^:\[\]/@]+)(?::(\d{1,5}))?")


def _split_host(value: str) -> tuple[str, int | None] | None:
    """``name[:port]`` or ``[v6][:port]`` -> (lower-case name, port or None); None if malformed."""
    m = _HOST.fullmatch(value.strip().lower())
    if not m:
        return None
    name, port = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return name, int(port) if port else None


class Hosts:
    """The (name, port) pairs this server answers to; port None means any."""

    def __init__(self, names: Iterable[str], port: int | None):
        self.allowed: set[tuple[str, int | None]] = set()
        for entry in names:
            entry = f"[{entry}]" if str(entry).count(":") > 1 and "[" not in str(entry) else str(entry)
            parsed = _split_host(entry)
            if parsed is None:
                raise InputError(f"allowed host {entry!r}: not a host name; give a name or address, "
                                 "optionally with :port")
            self.allowed.add((parsed[0], parsed[1] if parsed[1] is not None else port))

    def _match(self, name: str, port: int) -> bool:
        return (name, port) in self.allowed or (name, None) in self.allowed

    def host_ok(self, header: str | None) -> bool:
        parsed = _split_host(header or "")
        return parsed is not None and self._match(parsed[0], parsed[1] or 80)

    def origin_ok(self, url: str | None) -> bool:
        """Whether an Origin or Referer URL is this server."""
        try:
            parts = urlsplit(url or "")
            port = parts.port
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        return self._match(parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80))


class TooLarge(Exception):
    """A request body went past its limit while it was being read."""


class Guard:
    """Host and origin checks, body limits and security headers, before any route runs."""

    def __init__(self, app, hosts: Hosts, upload_limit: int, too_large):
        self.app, self.hosts, self.upload_limit, self.too_large = app, hosts, upload_limit, too_large

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send, headers, refusal = with_security_headers(send), Headers(scope=scope), None
        origin = headers.get("origin", headers.get("referer"))
        limit = self.upload_limit + MULTIPART_SLACK if scope["path"] == "/upload" else MAX_FORM
        declared = headers.get("content-length", "0")
        if not self.hosts.host_ok(headers.get("host")):
            log.warning("refused a request for Host %r (DNS rebinding?)", headers.get("host"))
            refusal = PlainTextResponse("400 Bad Request: this server answers only to its own address", 400)
        elif scope["method"] in ("GET", "HEAD"):
            pass
        elif not self.hosts.origin_ok(origin):
            log.warning("refused a %s %s from origin %r", scope["method"], scope["path"], origin)
            refusal = PlainTextResponse("403 Forbidden: this form was not sent from this server's own page", 403)
        elif not declared.isdigit() or int(declared) > limit:
            refusal = self.too_large(Request(scope), self.upload_limit)
        else:
            receive = counting(receive, limit)
        await (refusal or self.app)(scope, receive, send)


def counting(receive, limit: int):
    """``receive`` that raises _TooLarge once the body passes ``limit`` bytes."""
    seen = 0

    async def wrapped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise TooLarge(limit)
        return message
    return wrapped


def with_security_headers(send):
    """``send`` that adds the security headers every response carries."""
    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers.setdefault("content-security-policy", VIEW_CSP)
            headers.setdefault("x-content-type-options", "nosniff")
            headers.setdefault("referrer-policy", "same-origin")
        await send(message)
    return wrapped
