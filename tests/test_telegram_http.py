"""The bot's aiohttp client for the Bot API, against the fake server and real sockets: parameters
and uploads arrive as Telegram reads them, and every failure is the error PTB expects."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.fake_bot_api import TOKEN, FakeTelegram
from bot.telegram_http import AiohttpRequest


@pytest.fixture
def fake():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


def run(coro):
    return asyncio.run(coro)


def test_parameters_and_a_reply_go_through_as_ptb_sends_them(fake):
    async def go():
        async with Bot(TOKEN, base_url=fake.base_url, request=AiohttpRequest()) as bot:
            me = await bot.get_me()
            fake.chats[300] = {"id": 300, "type": "private", "first_name": "Lan"}
            sent = await bot.send_message(300, "Hội nghị <b>báo cáo viên</b> &amp; “trích dẫn”", parse_mode="HTML")
            return me, sent

    me, sent = run(go())
    assert me.is_bot and sent.text == "Hội nghị báo cáo viên & “trích dẫn”"
    call = fake.calls_of("sendMessage")[-1]
    assert call.ok and call.params["text"] == "Hội nghị <b>báo cáo viên</b> &amp; “trích dẫn”"


def test_an_upload_arrives_as_multipart_bytes_intact(fake):
    data = "Bài báo: Hà Nội đón 1,2 triệu lượt khách.\n".encode() + bytes(range(256))
    fake.inject("sendDocument", 400, "Bad Request: the fake keeps no documents")

    async def go():
        async with Bot(TOKEN, base_url=fake.base_url, request=AiohttpRequest()) as bot:
            await bot.send_document(300, data, filename="bài-báo.txt", caption="Tệp đính kèm")

    with pytest.raises(BadRequest, match="keeps no documents"):
        run(go())
    params = fake.calls_of("sendDocument")[-1].params
    assert params["document"] == data and params["caption"] == "Tệp đính kèm"


def test_a_server_that_never_answers_is_a_timeout():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        held = []
        threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/bot{TOKEN}/getMe"

        async def go():
            request = AiohttpRequest(read_timeout=0.3)
            await request.initialize()
            try:
                await request.post(url)
            finally:
                await request.shutdown()

        with pytest.raises(TimedOut):
            run(go())


def test_no_server_is_a_network_error_and_a_shut_down_client_starts_again():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there

    async def go():
        request = AiohttpRequest()
        with pytest.raises(RuntimeError, match="not initialized"):
            await request.do_request(f"http://127.0.0.1:{port}/x", "POST")
        await request.initialize()
        await request.shutdown()
        await request.initialize()
        try:
            with pytest.raises(NetworkError) as caught:
                await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
            return caught.value
        finally:
            await request.shutdown()

    error = run(go())
    assert not isinstance(error, TimedOut) and "aiohttp" in error.message


def serve(seen: list[str], status: int = 200, location: str | None = None) -> ThreadingHTTPServer:
    """A plain HTTP server in a thread: records each POST's request path, answers ``status``
    (with ``location``) and, for 200, a getMe result."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Trợ lý", "username": "qabot_proxy_bot"}}).encode()
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else():
    elsewhere, redirecting = [], []
    other = serve(elsewhere)
    first = serve(redirecting, 307, f"http://127.0.0.1:{other.server_address[1]}/bot{TOKEN}/getMe")

    async def go():
        async with Bot(TOKEN, base_url=f"http://127.0.0.1:{first.server_address[1]}/bot", request=AiohttpRequest()) as bot:
            return bot.username

    try:
        with pytest.raises(NetworkError):
            run(go())
    finally:
        for server in (first, other):
            server.shutdown()
            server.server_close()
    assert redirecting and elsewhere == []


def test_a_proxy_from_the_environment_is_used_as_httpx_used_it(monkeypatch):
    # A forward proxy as an office network has one: it gets the absolute URL and answers for it.
    seen = []
    proxy = serve(seen)
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")

    async def go():
        async with Bot(TOKEN, base_url="http://api.telegram.invalid/bot", request=AiohttpRequest()) as bot:
            return bot.username

    try:
        assert run(go()) == "qabot_proxy_bot"  # api.telegram.invalid does not resolve: it went through the proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert seen == [f"http://api.telegram.invalid/bot{TOKEN}/getMe"]
