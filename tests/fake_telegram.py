"""A fake Telegram Bot API server on loopback, for driving the real bot over real HTTP.

It speaks the wire protocol python-telegram-bot uses (POST ``/bot<TOKEN>/<method>`` with an
urlencoded form, or multipart/form-data when uploading; JSON-valued fields arrive as JSON
strings) and answers like Telegram where it matters: HTML is checked against Telegram's rules and
length limit, with Telegram's 400 errors. Tests play the users: they queue updates
(``user_message``, ``press``) that the bot's long poll picks up, and read back what the bot sent.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

TOKEN = "123456789:TEST-fake-token_for-qabot"
BOT_USER = {
    "id": 7000001,
    "is_bot": True,
    "first_name": "Trợ lý tin tức",
    "username": "qabot_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
MESSAGE_LIMIT = 4096

# --- Telegram's HTML ---------------------------------------------------------------------------

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
}
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]+)|#x([0-9a-fA-F]+));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_START = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_ATTR = re.compile(r"""\s+([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_TAG_END = re.compile(r"\s*/?>")


class EntityError(ValueError):
    """What Telegram reports as "can't parse entities"."""


def _offset(text: str, i: int) -> int:
    return len(text[:i].encode("utf-8"))


def _decode_entities(text: str, base: int, whole: str) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "&":
            m = _ENTITY.match(text, i)
            if not m:
                raise EntityError(f"Unsupported HTML entity at byte offset {_offset(whole, base + i)}")
            if m.group(1):
                out.append(_NAMED[m.group(1)])
            else:
                code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
                if not 0 < code <= 0x10FFFF:
                    raise EntityError(f"Invalid numeric entity at byte offset {_offset(whole, base + i)}")
                out.append(chr(code))
            i = m.end()
        elif c in "<>":
            raise EntityError(f"Unexpected '{c}' at byte offset {_offset(whole, base + i)}")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_html(text: str) -> str:
    """The plain text of Telegram-HTML ``text``; raises ``EntityError`` where Telegram would."""
    out: list[str] = []
    stack: list[str] = []
    i, n = 0, len(text)
    while i < n:
        lt = text.find("<", i)
        chunk_end = n if lt < 0 else lt
        out.append(_decode_entities(text[i:chunk_end], i, text))
        if lt < 0:
            break
        i = lt
        if text.startswith("</", i):
            j = text.find(">", i)
            if j < 0:
                raise EntityError(f"Unclosed end tag at byte offset {_offset(text, i)}")
            name = text[i + 2 : j].strip().lower()
            if not stack:
                raise EntityError(f'Unexpected end tag "{name}" at byte offset {_offset(text, i)}')
            if stack[-1] != name:
                raise EntityError(
                    f'Unmatched end tag at byte offset {_offset(text, i)}, expected "</{stack[-1]}>", found "</{name}>"'
                )
            stack.pop()
            i = j + 1
            continue
        m = _START.match(text, i)
        if not m:
            raise EntityError(f'Unsupported start tag "" at byte offset {_offset(text, i)}')
        name = m.group(1).lower()
        if name not in ALLOWED_TAGS:
            raise EntityError(f'Unsupported start tag "{name}" at byte offset {_offset(text, i)}')
        j = m.end()
        attrs: dict[str, str] = {}
        while True:
            end = _TAG_END.match(text, j)
            if end:
                j = end.end()
                break
            a = _ATTR.match(text, j)
            if not a:
                raise EntityError(f"Unclosed start tag at byte offset {_offset(text, i)}")
            raw = next((g for g in a.group(2, 3, 4) if g is not None), "")
            attrs[a.group(1).lower()] = _decode_entities(raw, a.start(), text)
            j = a.end()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityError(f'Unsupported start tag "span" at byte offset {_offset(text, i)}')
        if name in {"a", "blockquote", "pre"} and name in stack:
            raise EntityError(f'Nested "{name}" tags are not allowed at byte offset {_offset(text, i)}')
        if name == "blockquote" and "pre" in stack:
            raise EntityError(f"Blockquote inside pre at byte offset {_offset(text, i)}")
        stack.append(name)
        i = j
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- the server ------------------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


@dataclass
class Call:
    """One Bot API request the bot made, and what the fake answered."""

    seq: int
    method: str
    params: dict
    at: float
    ok: bool = True
    error: str | None = None
    result: object = None


@dataclass
class Sent:
    """A message as the bot left it (after any edits)."""

    chat_id: int
    message_id: int
    html: str
    text: str
    reply_markup: dict | None
    reply_to: int | None
    edits: int = 0
    history: list[str] = field(default_factory=list)

    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


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


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client hanging up mid long-poll (the bot stopping) is normal, not an error.
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeTelegram:
    def __init__(self, token: str = TOKEN):
        self.token = token
        self.lock = threading.Condition()
        self.updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self.calls: list[Call] = []
        self.sent: dict[tuple[int, int], Sent] = {}
        self.chats: dict[int, dict] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.unsized: set[str] = set()
        self.commands: list[dict] = []
        self.callback_answers: dict[str, dict] = {}
        self.injected: dict[str, list[ApiError]] = {}
        self.injected_raw: dict[str, list[tuple[int, str, bool]]] = {}
        self.closed = False
        self._queued: dict[int, int] = {}
        self.last_update_id = 0  # the newest update queued for the bot
        self.confirmed_update_id = 0  # the newest update the bot has confirmed having taken
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

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

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval, and every test stops a server.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-telegram", daemon=True
        )

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def start(self) -> FakeTelegram:
        self.thread.start()
        return self

    def stop(self) -> None:
        with self.lock:
            self.closed = True
            self.lock.notify_all()
        self.server.shutdown()
        self.server.server_close()

    # --- the API ---------------------------------------------------------------------------------

    def handle(self, method: str, params: dict) -> tuple[int, dict]:
        with self.lock:
            call = Call(len(self.calls), method, params, time.monotonic())
            self.calls.append(call)
            injected = self.injected.get(method)
            error = injected.pop(0) if injected else None
        try:
            if error is not None:
                raise error
            handler = getattr(self, f"api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = handler(params)
        except ApiError as exc:
            with self.lock:
                call.ok, call.error = False, exc.description
                self.lock.notify_all()
            body = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return exc.code, body
        with self.lock:
            call.result = result
            self.lock.notify_all()
        return 200, {"ok": True, "result": result}

    def api_getMe(self, params):
        return BOT_USER

    def api_deleteWebhook(self, params):
        return True

    def api_setMyCommands(self, params):
        self.commands = params.get("commands", [])
        return True

    def api_getUpdates(self, params):
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 5.0)
        with self.lock:
            if offset:
                # Asking from ``offset`` on confirms every earlier update: the updater has put
                # them all into the Application's queue before it polls again.
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                self.confirmed_update_id = max(self.confirmed_update_id, offset - 1)
                self.lock.notify_all()
            while not self.updates and not self.closed and time.monotonic() < deadline:
                self.lock.wait(max(0.0, deadline - time.monotonic()))
            return self.updates[:limit]

    def _text_and_plain(self, params) -> tuple[str, str]:
        text = params.get("text", "")
        plain = text
        if str(params.get("parse_mode", "")).upper() == "HTML":
            try:
                plain = parse_html(text)
            except EntityError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > MESSAGE_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        return text, plain

    def _message_dict(self, sent: Sent) -> dict:
        msg = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self.chats.get(sent.chat_id, {"id": sent.chat_id, "type": "private"}),
            "from": BOT_USER,
            "text": sent.text,
        }
        if sent.reply_markup:
            msg["reply_markup"] = sent.reply_markup
        if sent.edits:
            msg["edit_date"] = int(time.time())
        return msg

    def api_sendMessage(self, params):
        chat_id = int(params["chat_id"])
        html, plain = self._text_and_plain(params)
        reply = params.get("reply_parameters") or {}
        with self.lock:
            sent = Sent(chat_id, next(self._message_ids), html, plain, params.get("reply_markup"), reply.get("message_id"))
            self.sent[(chat_id, sent.message_id)] = sent
            return self._message_dict(sent)

    def _find(self, params) -> Sent:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.sent:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.sent[key]

    def api_editMessageText(self, params):
        html, plain = self._text_and_plain(params)
        with self.lock:
            sent = self._find(params)
            markup = params.get("reply_markup")
            if html == sent.html and markup == sent.reply_markup:
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message",
                )
            sent.history.append(sent.html)
            sent.html, sent.text, sent.reply_markup = html, plain, markup
            sent.edits += 1
            return self._message_dict(sent)

    def api_editMessageReplyMarkup(self, params):
        with self.lock:
            sent = self._find(params)
            sent.reply_markup = params.get("reply_markup")
            sent.edits += 1
            return self._message_dict(sent)

    def api_answerCallbackQuery(self, params):
        if utf16_len(params.get("text") or "") > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        with self.lock:
            self.callback_answers[params["callback_query_id"]] = params
        return True

    def api_sendChatAction(self, params):
        if params.get("action") not in {"typing", "upload_document", "upload_photo", "record_voice"}:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def api_getFile(self, params):
        file_id = params["file_id"]
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, data = self.files[file_id]
        found = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_path": path}
        if file_id not in self.unsized:
            found["file_size"] = len(data)
        return found

    # --- playing the users ---------------------------------------------------------------------

    def inject(self, method: str, code: int, description: str, parameters: dict | None = None) -> None:
        """Make the next call to ``method`` fail like Telegram would (429, 502, ...)."""
        with self.lock:
            self.injected.setdefault(method, []).append(ApiError(code, description, parameters))

    def inject_page(self, method: str, code: int, page: str, times: int = 1, lower: bool = False) -> None:
        """Make the next ``times`` calls to ``method`` get a non-JSON error page, as a misbehaving
        proxy would send; ``{path}`` in ``page`` becomes the request path, token included
        (``lower``: lowercased, as some servers echo it)."""
        with self.lock:
            self.injected_raw.setdefault(method, []).extend([(code, page, lower)] * times)

    def _chat(self, user_id: int, chat_id: int | None) -> dict:
        if chat_id is None or chat_id == user_id:
            chat = {"id": user_id, "type": "private", "first_name": f"Người dùng {user_id}"}
        else:
            chat = {"id": chat_id, "type": "supergroup", "title": f"Nhóm {chat_id}"}
        self.chats[chat["id"]] = chat
        return chat

    def _push(self, update: dict) -> dict:
        with self.lock:
            update["update_id"] = self.last_update_id = next(self._update_ids)
            self.updates.append(update)
            self.lock.notify_all()
        return update

    def updates_message_id(self, seq: int) -> int | None:
        """The message id of the user message queued at ``seq``."""
        return self._queued.get(seq)

    def user_message(
        self,
        user_id: int,
        text: str | None = None,
        chat_id: int | None = None,
        reply_to: Sent | None = None,
        document: dict | None = None,
    ) -> int:
        """A user writes; returns the seq to wait for the bot's reactions after."""
        with self.lock:
            seq = len(self.calls)
            chat = self._chat(user_id, chat_id)
            msg = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": chat,
                "from": {"id": user_id, "is_bot": False, "first_name": f"Người dùng {user_id}", "language_code": "vi"},
            }
        if text is not None:
            msg["text"] = text
            entities = []
            if text.startswith("/"):
                cmd = text.split()[0]
                entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(cmd)})
            for m in re.finditer(r"@\w+", text):
                entities.append({"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())})
            if entities:
                msg["entities"] = entities
        if document is not None:
            msg["document"] = document
        if reply_to is not None:
            msg["reply_to_message"] = self._message_dict(reply_to)
        self._queued[seq] = msg["message_id"]
        self._push({"message": msg})
        return seq

    def add_file(self, name: str, data: bytes, mime: str = "text/plain", sized: bool = True) -> dict:
        """A document as Telegram describes it in a message; its bytes served at its file_path.
        ``sized=False``: neither the message nor getFile states its size (both may omit it)."""
        with self.lock:
            file_id = f"DOC{len(self.files) + 1}"
            self.files[file_id] = (f"documents/file_{len(self.files) + 1}{name[name.rfind('.'):] if '.' in name else ''}", data)
            if not sized:
                self.unsized.add(file_id)
        doc = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name, "mime_type": mime}
        return {**doc, "file_size": len(data)} if sized else doc

    def press(self, user_id: int, sent: Sent, data: str) -> tuple[int, str]:
        """A user presses an inline button under ``sent``; returns (seq, callback query id)."""
        with self.lock:
            seq = len(self.calls)
            query_id = f"cq{next(self._callback_ids)}"
            message = self._message_dict(sent)
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": {"id": user_id, "is_bot": False, "first_name": f"Người dùng {user_id}"},
                    "chat_instance": f"ci{sent.chat_id}",
                    "data": data,
                    "message": message,
                }
            }
        )
        return seq, query_id

    # --- reading what the bot did ------------------------------------------------------------------

    def wait(self, predicate, timeout: float = 30.0):
        """Block until ``predicate()`` (called under the lock) returns something truthy."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                found = predicate()
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the bot did not do what the test waited for")
                self.lock.wait(left)

    def wait_taken(self, timeout: float = 30.0) -> None:
        """Block until the bot has taken (and confirmed) every update queued so far."""
        with self.lock:
            last = self.last_update_id
        self.wait(lambda: self.confirmed_update_id >= last, timeout)

    def messages_since(self, seq: int, chat_id: int | None = None) -> list[Sent]:
        """Messages the bot sent (successfully) after ``seq``, oldest first, as they are now."""
        out = []
        for call in self.calls[seq:]:
            if call.method == "sendMessage" and call.ok and call.result is not None:
                if chat_id is None or call.result["chat"]["id"] == chat_id:
                    out.append(self.sent[(call.result["chat"]["id"], call.result["message_id"])])
        return out

    def wait_message(self, seq: int, chat_id: int, predicate=lambda s: True, timeout: float = 30.0) -> Sent:
        return self.wait(lambda: next((s for s in self.messages_since(seq, chat_id) if predicate(s)), None), timeout)

    def wait_reply(self, seq: int, chat_id: int, timeout: float = 30.0) -> list[Sent]:
        """All messages of one reply: up to the first that carries buttons, or a single plain one."""

        def done():
            msgs = self.messages_since(seq, chat_id)
            for i, s in enumerate(msgs):
                if s.reply_markup:
                    return msgs[: i + 1]
            return None

        return self.wait(done, timeout)

    def rejected(self, since: int = 0) -> list[Call]:
        """Calls Telegram would have refused as malformed (400), other than "not modified"."""
        with self.lock:
            return [
                c
                for c in self.calls[since:]
                if not c.ok and c.error.startswith("Bad Request") and "not modified" not in c.error
            ]

    def calls_of(self, method: str, since: int = 0) -> list[Call]:
        with self.lock:
            return [c for c in self.calls[since:] if c.method == method]


class RunningBot:
    """A real ``Application`` long-polling in its own thread and event loop, like ``run_polling``
    does it (post_init / post_shutdown included), so tests can stay synchronous."""

    def __init__(self, app):
        import asyncio

        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bot-loop", daemon=True)

    def _run(self, coro, timeout: float = 60.0):
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self) -> None:
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.updater.start_polling(timeout=1)
        await self.app.start()

    async def _stop(self) -> None:
        await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()
        if self.app.post_shutdown:
            await self.app.post_shutdown(self.app)

    async def _idle(self, checks: int) -> None:
        import asyncio

        app, quiet = self.app, 0
        while quiet < checks:
            # Every update put into the queue is marked done only once its handlers returned.
            await app.update_queue.join()
            if app.update_queue.empty() and app.update_processor.current_concurrent_updates == 0:
                quiet += 1
            else:
                quiet = 0
            await asyncio.sleep(0.01)

    def wait_idle(self, fake: FakeTelegram, timeout: float = 30.0, checks: int = 3) -> None:
        """Block until the bot has handled everything ``fake`` queued for it: every update taken
        by the updater, and the Application idle (empty queue, no update being processed) for
        ``checks`` looks in a row. Work a handler left running in the background (a reload) is
        not waited for."""
        fake.wait_taken(timeout)
        self._run(self._idle(checks), timeout)

    def start(self) -> RunningBot:
        self.thread.start()
        self._run(self._start())
        return self

    def stop(self) -> None:
        try:
            self._run(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
