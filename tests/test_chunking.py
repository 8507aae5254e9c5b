from retrieval.chunking import TITLE_CHARS, chunk_document, chunk_spans, embedding_text
from retrieval.ingest import parse_page
from retrieval.sentences import sentence_spans

from .conftest import SAMPLE


def test_chunks_respect_model_token_budget_and_sentence_edges(e5):
    doc = parse_page(SAMPLE.read_text(encoding="utf-8"), SAMPLE.name)[0]
    chunks = chunk_document(doc.doc_id, doc.text, e5.count_tokens, max_tokens=120, overlap_tokens=30)
    assert len(chunks) > 3
    spans = sentence_spans(doc.text)
    too_long = [(a, b) for (a, b), n in zip(spans, e5.count_tokens([doc.text[a:b] for a, b in spans])) if n > 120]
    assert too_long  # the sample has a sentence longer than a chunk: the exception below is exercised
    starts, ends = {a for a, _ in spans}, {b for _, b in spans}

    def inside_too_long(pos: int) -> bool:
        return any(a <= pos <= b for a, b in too_long)

    cut = 0
    for c in chunks:
        # Whole sentences, except where a sentence alone exceeds the budget and is cut.
        assert c.start in starts or inside_too_long(c.start), doc.text[c.start : c.start + 40]
        assert c.end in ends or inside_too_long(c.end), doc.text[c.end - 40 : c.end]
        cut += c.start not in starts or c.end not in ends
        text = doc.text[c.start : c.end]
        assert e5.count_tokens([text])[0] <= 130 or len(sentence_spans(text)) == 1
    assert cut  # and it was cut
    # Every character of the article (but the spaces where a long sentence was cut) is in a chunk.
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered or doc.text[i].isspace() for a, b in spans for i in range(a, b))


def test_overlap_repeats_trailing_sentences():
    text = " ".join(f"Câu số {i} nói về chuyện thứ {i}." for i in range(12))
    count = lambda xs: [len(x.split()) for x in xs]  # noqa: E731 - one token a syllable here
    spans = chunk_spans(text, count, max_tokens=16, overlap_tokens=8)  # 8 tokens a sentence
    assert len(spans) > 3
    for (a1, b1), (a2, b2) in zip(spans, spans[1:]):
        assert a1 < a2 < b1 < b2  # overlapping, always moving forward


def test_long_sentence_is_cut_at_spaces():
    text = " ".join(["từ"] * 500) + "."
    count = lambda xs: [len(x.split()) for x in xs]  # noqa: E731
    spans = chunk_spans(text, count, max_tokens=100, overlap_tokens=0)
    assert len(spans) == 5
    assert all(len(text[a:b].split()) <= 100 for a, b in spans)


def test_long_sentence_is_cut_at_semicolons_first(e5):
    doc = parse_page(SAMPLE.read_text(encoding="utf-8"), SAMPLE.name)[0]
    chunks = chunk_document(doc.doc_id, doc.text, e5.count_tokens, max_tokens=200, overlap_tokens=40)
    # The sample's last paragraph is one ~300-token sentence of clauses joined by ";".
    clause = "Công điện số 1300/CĐ-TTg của Thủ tướng Chính phủ về bảo đảm trật tự, an toàn giao thông"
    assert any(clause in doc.text[c.start : c.end] for c in chunks)
    for c in chunks:
        text = doc.text[c.start : c.end]
        assert text.endswith((".", ";", "…", "”", '"', ")")) or e5.count_tokens([text])[0] > 200, text[-40:]


def test_a_pathological_title_cannot_push_the_chunk_out_of_the_model_window(e5):
    chunk = "Chiều 28/12, tại Hà Nội, Đảng ủy Khối các cơ quan Trung ương tổ chức Hội nghị báo cáo viên tháng 12/2023."
    title = "Hội nghị báo cáo viên cấp Đảng ủy Khối các cơ quan Trung ương tháng 12/2023"
    assert embedding_text(title, chunk) == f"{title}\n{chunk}"  # real headlines travel whole
    for hostile in ("😀" * 3000, "Tin nóng " * 700):
        text = embedding_text(hostile, chunk)
        assert text.endswith("\n" + chunk) and len(text) <= TITLE_CHARS + 1 + len(chunk)
        assert e5.count_tokens([text])[0] < 512
