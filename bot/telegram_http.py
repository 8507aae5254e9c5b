"""The bot's HTTP client for the Bot API: python-telegram-bot's ``BaseRequest`` over aiohttp.

PTB's own ``HTTPXRequest`` costs the event loop ~0.9 ms of CPU a request here, and more the more
connections it keeps: before each request httpx's pool asks every idle connection whether the
server closed it (a ``getpeername`` and a ``poll`` each). Under 20 people asking at once that was
half of the event loop's time, and the event loop is the one thread every question passes through.
aiohttp does the same requests for ~0.3 ms, the stand-in server's share included (1,000 ``getMe``
posts to ``bot.fake_bot_api``, one and eight at a time). What PTB relies on is kept: the same
form-encoded parameters and multipart uploads, ``TimedOut`` for timeouts, ``NetworkError`` for
every other failure to reach the server; status and body go back to PTB, which turns error answers
into its exceptions as it does for httpx. So are httpx's defaults a deployment may rely on: proxies
from the environment (``HTTPS_PROXY``, ``NO_PROXY``) and certificate authorities from ``SSL_CERT_FILE``
/ ``SSL_CERT_DIR`` or else certifi's bundle (a slim container may have no system CA store).
"""

from __future__ import annotations

import os
import ssl
import urllib.request
from urllib.parse import urlencode, urlsplit

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# HTTPXRequest's defaults, so timeouts mean what PTB's documentation says.
CONNECT_TIMEOUT = READ_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
# PTB's "use the default" marker, whose class lives in a private module.
_DEFAULT = type(BaseRequest.DEFAULT_NONE)


class AiohttpRequest(BaseRequest):
    """Requests to the Bot API through one ``aiohttp.ClientSession`` made in ``initialize``.

    aiohttp has no write timeout, so ``write_timeout`` is not applied (this bot sends a few KB of
    parameters, no media). ``connection_pool_size`` caps the connections open at once, as in
    ``HTTPXRequest``.
    """

    __slots__ = ("_connect", "_pool", "_pool_size", "_proxies", "_read", "_session")

    def __init__(
        self,
        connection_pool_size: int = 256,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        read_timeout: float | None = READ_TIMEOUT,
        pool_timeout: float | None = POOL_TIMEOUT,
    ):
        self._session: aiohttp.ClientSession | None = None
        self._pool_size = connection_pool_size
        self._connect, self._read, self._pool = connect_timeout, read_timeout, pool_timeout
        self._proxies: dict[tuple[str, str | None], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0, ssl=_ssl_context())
            # Not trust_env: aiohttp then looks the proxy and netrc up in worker threads on every
            # request (two thread hops; measured ~15% fewer questions/s under 20 users). The
            # proxy is looked up once per host instead (``_proxy_for``).
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout=BaseRequest.DEFAULT_NONE,
        write_timeout=BaseRequest.DEFAULT_NONE,
        connect_timeout=BaseRequest.DEFAULT_NONE,
        pool_timeout=BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._read if isinstance(read_timeout, _DEFAULT) else read_timeout
        connect = self._connect if isinstance(connect_timeout, _DEFAULT) else connect_timeout
        pool = self._pool if isinstance(pool_timeout, _DEFAULT) else pool_timeout
        # aiohttp's ``connect`` is the wait for a free connection and the connecting together.
        timeout = aiohttp.ClientTimeout(
            connect=None if connect is None or pool is None else connect + pool, sock_connect=connect, sock_read=read
        )
        try:
            # No redirects, as httpx: a redirected request would carry the token to another address.
            request = self._session.request(
                method, url, **_body(request_data), timeout=timeout, allow_redirects=False, proxy=self._proxy_for(url)
            )
            async with request as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut(f"aiohttp.{type(exc).__name__}: {exc}" if str(exc) else None) from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


    def _proxy_for(self, url: str) -> str | None:
        """The proxy the environment names for ``url``'s scheme and host (``HTTPS_PROXY``,
        ``NO_PROXY``, ...), as httpx read it; looked up once per host."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname)
        if key not in self._proxies:
            bypass = parts.hostname is not None and urllib.request.proxy_bypass(parts.hostname)
            self._proxies[key] = None if bypass else urllib.request.getproxies().get(parts.scheme)
        return self._proxies[key]


def _ssl_context() -> ssl.SSLContext:
    """The certificate authorities httpx would trust: the environment's, else certifi's."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    return ssl.create_default_context(cafile=certifi.where())


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _body(request_data: RequestData | None) -> dict:
    """The request's ``data`` (and ``headers``): parameters form-encoded (values JSON, as the Bot
    API takes them), files as multipart. The form is encoded here: given a dict, aiohttp builds a
    multipart writer (and a uuid4 boundary) for every request before settling on the urlencoded
    form, 8% of the event loop's time under 20 users."""
    if request_data is None:
        return {}
    files = request_data.multipart_data
    if not files:
        return {"data": urlencode(request_data.json_parameters).encode(), "headers": _FORM}
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime)
    return {"data": form}
