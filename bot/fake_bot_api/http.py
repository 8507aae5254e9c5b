"""The fake server's HTTP side: the Bot API wire format python-telegram-bot speaks (POST
``/bot<TOKEN>/<method>`` with an urlencoded form, or multipart/form-data when uploading;
JSON-valued fields arrive as JSON strings), files served from ``/file/bot<TOKEN>/``, and updates
posted to a webhook."""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import sys
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote

if TYPE_CHECKING:
    from .server import FakeTelegram

JSON_FIELDS = {"reply_markup", "reply_parameters", "link_preview_options", "commands", "scope", "allowed_updates", "entities"}


def _parse_form(content_type: str, body: bytes) -> dict:
    if content_type.startswith("multipart/form-data"):
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        params = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            params[name] = payload if part.get_filename() else payload.decode("utf-8")
        return params
    if content_type.startswith("application/json"):
        return json.loads(body or b"{}")
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}


def post_update(url: str, secret: str | None, update: dict, attempts: int = 100) -> int:
    """POST one update to a webhook as Telegram does (a JSON body, ``secret`` in the
    ``X-Telegram-Bot-Api-Secret-Token`` header), again every 0.1 s while nothing answers or the
    server fails (Telegram retries, and PTB registers its URL before it listens); the HTTP status
    it answered last, 0 for none."""
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")
    status = 0
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        if status and status < 500:
            return status
        time.sleep(0.1)
    return status


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client hanging up mid long-poll (the bot stopping) is normal, not an error.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def handler_for(fake: FakeTelegram) -> type[BaseHTTPRequestHandler]:
    """The request handler class of one fake server: requests go to ``fake.handle``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle's algorithm the body waited for the
        # client's delayed ACK of the headers (40 ms on Linux), which put ~45 ms of the stand-in's
        # own into every reply the bench timed (sendChatAction 45 ms after the update was queued).
        disable_nagle_algorithm = True

        def log_message(self, *args):  # keep test output clean
            pass

        def _reply(self, status: int, payload: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):
            prefix = f"/file/bot{fake.token}/"
            path = unquote(self.path)  # PTB percent-encodes the path, token's ":" included
            if not path.startswith(prefix):
                return self._reply(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
            path = path[len(prefix) :]
            for file_path, data in fake.files.values():
                if file_path == path:
                    return self._reply(200, data, "application/octet-stream")
            return self._reply(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if len(body) < length:  # the client gave up mid-request (a cancelled call)
                self.close_connection = True
                return
            m = re.fullmatch(r"/bot([^/]+)/(\w+)", self.path)
            if not m or m.group(1) != fake.token:
                return self._reply(401, b'{"ok":false,"error_code":401,"description":"Unauthorized"}')
            with fake.lock:
                raw = fake.injected_raw.get(m.group(2))
                raw = raw.pop(0) if raw else None
            if raw is not None:  # a proxy's error page, not the Bot API's JSON
                status, page, lower = raw
                path = self.path.lower() if lower else self.path
                return self._reply(status, page.replace("{path}", path).encode("utf-8"), "text/html")
            params = _parse_form(self.headers.get("Content-Type", ""), body)
            for key in JSON_FIELDS & params.keys():
                if isinstance(params[key], str):
                    params[key] = json.loads(params[key])
            status, payload = fake.handle(m.group(2), params)
            self._reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


    return Handler
