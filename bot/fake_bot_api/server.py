"""The fake Bot API server: Telegram's methods the bot calls, answered like Telegram where it
matters (HTML checked against Telegram's rules and length limit, with Telegram's 400 errors), and
the users' side: updates queued for the bot's long poll or posted to its webhook
(``user_message``, ``press``). What the bot sent is read back through ``record.CallRecord``."""

from __future__ import annotations

import itertools
import re
import threading
import time

from .html import MESSAGE_LIMIT, EntityError, parse_html, utf16_len
from .http import QuietServer, handler_for, post_update
from .record import Call, CallRecord, Sent

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


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


class FakeTelegram(CallRecord):
    """The Bot API's side and the users' side; what the bot did is read through ``CallRecord``."""

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
        # setWebhook's url and secret_token: updates are then posted there, not polled
        self.webhook: dict | None = None
        self.deliveries: list[int] = []  # HTTP status of each update posted to the webhook

        self.server = QuietServer(("127.0.0.1", 0), handler_for(self))
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

    def api_setWebhook(self, params):
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return True

    def api_deleteWebhook(self, params):
        self.webhook = None
        return True

    def api_setMyCommands(self, params):
        self.commands = params.get("commands", [])
        return True

    def api_getUpdates(self, params):
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
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
            hook = self.webhook
            if hook is None:
                self.updates.append(update)
            self.lock.notify_all()
        if hook is not None:
            self.deliveries.append(post_update(hook["url"], hook["secret_token"], update))
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
