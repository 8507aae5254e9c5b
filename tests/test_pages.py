"""Answer pages kept for their buttons, and the callback data the buttons carry."""

from __future__ import annotations

import re

from bot.pages import (
    DOWN,
    FEEDBACK_PATTERN,
    MORE,
    MORE_PATTERN,
    RELOAD,
    RELOAD_PATTERN,
    UP,
    PageCache,
    answer_keyboard,
    new_page,
    parse_callback,
    reload_keyboard,
)

QUESTION = "Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?"


def page(n: int = 0):
    return new_page(QUESTION, 3 * n, [], True, -1001234567890)


def buttons(markup) -> list[list[tuple[str, str]]]:
    return [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]


def test_the_cache_forgets_the_oldest_pages_past_keep():
    cache = PageCache(keep=3)
    pages = [page(i) for i in range(5)]
    assert len({p.id for p in pages}) == 5
    for p in pages:
        cache.remember(p)
    assert [cache.get(p.id) for p in pages] == [None, None, *pages[2:]]
    assert cache.get("không-có") is None


def test_a_page_is_kept_as_it_was_shown():
    cache = PageCache()
    p = new_page(QUESTION, 6, [], False, 200)
    cache.remember(p)
    kept = cache.get(p.id)
    assert (kept.question, kept.offset, kept.hits, kept.answered, kept.chat_id) == (QUESTION, 6, [], False, 200)


def test_callback_data_round_trips_and_fits_telegram():
    p = page()
    rows = buttons(answer_keyboard(p, more=True))
    datas = [data for row in rows for _, data in row]
    assert [parse_callback(d) for d in datas] == [(MORE, p.id), (UP, p.id), (DOWN, p.id)]
    assert all(len(d.encode()) <= 64 for d in datas)  # Telegram's limit on callback data
    assert re.match(MORE_PATTERN, datas[0]) and not re.match(FEEDBACK_PATTERN, datas[0])
    assert all(re.match(FEEDBACK_PATTERN, d) and not re.match(MORE_PATTERN, d) for d in datas[1:])


def test_parse_callback_of_odd_data():
    assert parse_callback(RELOAD) == (RELOAD, "")
    assert parse_callback("") == ("", "")
    assert parse_callback("up:a:b") == ("up", "a:b")


def test_more_button_only_when_there_may_be_more():
    p = page()
    assert buttons(answer_keyboard(p, more=True)) == [
        [("Thêm kết quả", f"{MORE}:{p.id}")],
        [("👍", f"{UP}:{p.id}"), ("👎", f"{DOWN}:{p.id}")],
    ]
    assert buttons(answer_keyboard(p, more=False)) == [[("👍", f"{UP}:{p.id}"), ("👎", f"{DOWN}:{p.id}")]]


def test_reload_keyboard():
    [[(text, data)]] = buttons(reload_keyboard())
    assert text == "Nạp lại ngay" and re.match(RELOAD_PATTERN, data)
    assert not re.match(RELOAD_PATTERN, f"{RELOAD}:x")
