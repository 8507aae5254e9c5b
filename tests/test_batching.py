"""Concurrent questions share encoder calls and still get their own vectors."""

import threading
import time

import numpy as np
import pytest

from retrieval.batching import QueryBatcher
from retrieval.embedder import PASSAGE, QUERY, Embedder

QUESTIONS = [
    "Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?",
    "Ai chủ trì hội nghị báo cáo viên?",
    "Chất lượng công tác tuyên truyền miệng năm 2023 thế nào?",
    "Giá vàng hôm nay bao nhiêu?",
    "Đội ngũ báo cáo viên các cấp hoạt động ra sao?",
    "Thời tiết Hà Nội ngày mai thế nào?",
    "Bệnh nhân bị bệnh gì?",
    "Ca phẫu thuật kết thúc sau bao lâu?",
]


def ask_together(batcher, questions):
    """Each question from its own thread, released at the same moment; vectors in order."""
    out, errors = [None] * len(questions), [None] * len(questions)
    start = threading.Barrier(len(questions))

    def ask(i):
        start.wait()
        try:
            out[i] = batcher.encode([questions[i]], QUERY)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            errors[i] = exc

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out, errors


def test_questions_asked_together_share_calls_and_keep_their_own_vectors(e5_torch):
    batcher = QueryBatcher(e5_torch, window=0.05)
    got, errors = ask_together(batcher, QUESTIONS)
    assert errors == [None] * len(QUESTIONS)
    assert batcher.calls < len(QUESTIONS) / 2
    for question, vectors in zip(QUESTIONS, got):
        assert vectors.shape == (1, e5_torch.dim)
        np.testing.assert_allclose(vectors[0], e5_torch.encode([question], QUERY)[0], atol=1e-4)


def test_more_questions_than_a_batch_are_all_answered(e5_torch):
    batcher = QueryBatcher(e5_torch, window=0.05, max_batch=3)
    got, errors = ask_together(batcher, QUESTIONS)
    assert errors == [None] * len(QUESTIONS)
    assert all(v is not None and v.shape == (1, e5_torch.dim) for v in got)
    assert batcher.calls >= len(QUESTIONS) / 3


def test_a_failing_call_reaches_every_question_of_its_batch(e5_torch):
    class Failing(Embedder):
        """The real model, failing on one question (a fault, as a model can raise)."""

        name, dim = e5_torch.name, e5_torch.dim

        def encode(self, texts, kind):
            if any("hỏng" in t for t in texts):
                raise RuntimeError("encoder failed")
            return e5_torch.encode(texts, kind)

        def count_tokens(self, texts):
            return e5_torch.count_tokens(texts)

    batcher = QueryBatcher(Failing(), window=0.05)
    got, errors = ask_together(batcher, ["câu hỏi hỏng", *QUESTIONS[:3]])
    assert isinstance(errors[0], RuntimeError)
    # Whoever shared the failing call hears of it too; nobody waits forever.
    assert all(e is not None or v is not None for v, e in zip(got, errors))
    # The next question is embedded normally.
    assert batcher.encode([QUESTIONS[0]], QUERY).shape == (1, e5_torch.dim)


@pytest.mark.parametrize("kind", [PASSAGE, QUERY])
def test_passages_and_unbatched_queries_go_straight_through(e5_torch, kind):
    batcher = QueryBatcher(e5_torch, window=0 if kind == QUERY else 0.05)
    texts = ["Hà Nội: hội nghị báo cáo viên Trung ương tháng 12/2023.", QUESTIONS[1]]
    np.testing.assert_allclose(batcher.encode(texts, kind), e5_torch.encode(texts, kind), atol=1e-5)
    assert batcher.calls == 0
    assert (batcher.name, batcher.dim) == (e5_torch.name, e5_torch.dim)


def test_an_encoder_without_batch_gain_is_not_kept_waiting_and_answers_exactly(e5):
    # The int8 default embeds each text alone (its vector must not depend on who else asked):
    # the window would only add latency, so questions go in turn without it.
    assert e5.batch_gain is False
    batcher = QueryBatcher(e5, window=30.0)
    started = time.monotonic()
    got, errors = ask_together(batcher, QUESTIONS[:4])
    assert time.monotonic() - started < 15  # a 30 s window would have been waited once at least
    assert errors == [None] * 4
    for question, vectors in zip(QUESTIONS, got):
        np.testing.assert_array_equal(vectors[0], e5.encode([question], QUERY)[0])
    assert e5.encode(QUESTIONS[:3], QUERY)[1].tolist() == e5.encode([QUESTIONS[1]], QUERY)[0].tolist()


def test_an_encoder_without_batch_gain_runs_only_as_many_questions_at_once_as_it_has_cores(e5):
    class Watched(Embedder):
        """The int8 model, counting the calls inside it at once."""

        name, dim, batch_gain, parallel_calls = e5.name, e5.dim, False, 2

        def __init__(self):
            self.inside, self.most, self.lock = 0, 0, threading.Lock()

        def encode(self, texts, kind):
            with self.lock:
                self.inside += 1
                self.most = max(self.most, self.inside)
            try:
                return e5.encode(texts, kind)
            finally:
                with self.lock:
                    self.inside -= 1

        def count_tokens(self, texts):
            return e5.count_tokens(texts)

    watched = Watched()
    got, errors = ask_together(QueryBatcher(watched, window=0.05), QUESTIONS)
    assert errors == [None] * len(QUESTIONS)
    assert watched.most <= 2  # eight asked at once; the others queued
    for question, vectors in zip(QUESTIONS, got):
        np.testing.assert_array_equal(vectors[0], e5.encode([question], QUERY)[0])
