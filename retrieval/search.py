"""Hybrid search: BM25 and dense candidates, fused, grouped by article, with the answering
sentence located inside each quote and an explicit "nothing relevant" decision."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np

from .chunking import embedding_text
from .config import RetrievalConfig
from .embedder import QUERY, Embedder
from .fusion import fuse
from .index import Index
from .ingest import Document
from .manifest import LEXICAL
from .query import FOLDED, Query, parse_query, query_tokens
from .restore import LOCAL_CHUNKS, local_counts
from .sentences import sentence_spans
from .store import StoredChunk
from .text import fold, syllables

log = logging.getLogger(__name__)

SIMILARITY_CENTER = 0.85  # a typical e5 cosine between a question and a related passage
# Weight of a question's adjacent syllable pair found in a sentence, beside the idf of its words:
# enough to break ties between sentences sharing the same words, never to outweigh a rare word.
PAIR_WEIGHT = 0.5
# Chunks fetched from the store per round while grouping: enough for a page of results even
# when the best chunks crowd into a few articles.
MIN_GROUP_BATCH = 20
# Picking the answering sentence, a topic word's corpus idf is multiplied by its "local idf" among
# the article's sentences to this power (``local_weights``). Measured on the first hit's chunk
# (sentence@1, vinewsqa-dev / xquad-vi): power 0 (corpus idf only) 0.576 / 0.775, 1: 0.591 /
# 0.788, 2: 0.596 / 0.796, 3: 0.599 / 0.790; over the chunk's sentences instead of the
# article's, power 2: 0.589 / 0.794.
LOCAL_IDF_POWER = 2
# Growing a quote beyond its chunk, sentences before the answering one are added first while
# they start within this many characters of it (a sentence or two of lead-in), then sentences
# after it, then earlier ones again. Measured with 1,000-character quotes (quote@1,
# vinewsqa-dev / xquad-vi): 250 0.773 / 0.949; sentences after first (0) 0.771 / 0.949.
QUOTE_LEAD_CHARS = 250
# The next sentence joins the highlight only while both together stay this short: a highlight is
# something to find at a glance. Measured (sentence_of_quote@1, vinewsqa-dev / xquad-vi; average
# highlight): 300 0.837 / 0.864 (171 / 223 characters), 500 0.851 / 0.887 (189 / 270), no cap
# 0.851 / 0.898 (190 / 294, 1,183 characters at worst on the test article).
HIGHLIGHT_JOIN_CHARS = 500


def _fold_table() -> dict[int, str]:
    """``fold`` as a character table over the Latin letters (Vietnamese ones included): one
    ``str.translate`` instead of decomposing and recomposing the text."""
    table = {}
    for cp in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        folded = fold(chr(cp))
        if len(folded) == 1 and folded != chr(cp):
            table[cp] = folded
    return table


_FOLD_TABLE = _fold_table()
_FOLDED_Y_AS_I = re.compile(r"\b([hklmst])y\b")  # text.syllables' i/y rule, on folded text
_WORD = re.compile(r"\w+")


def folded_sentences(text: str) -> list[tuple[tuple[int, int], list[str]]]:
    """Each sentence span of ``text`` with its folded syllables: ``fold`` of each of
    ``syllables`` for Latin-script text (other scripts keep their marks). The whole text is
    folded at once (a character table keeps every character's place) because picking the
    answering sentence reads whole articles at query time (measured on vinewsqa-dev articles,
    busy 2-core machine: 0.6 ms an article instead of 1.9 ms)."""
    folded = text.lower().translate(_FOLD_TABLE)
    if len(folded) != len(text):  # lower() changed a length ("İ"): sentence by sentence
        return [((a, b), [fold(t) for t in syllables(text[a:b])]) for a, b in sentence_spans(text)]
    folded = _FOLDED_Y_AS_I.sub(r"\1i", folded)
    return [((a, b), _WORD.findall(folded, a, b)) for a, b in sentence_spans(text)]


def local_weights(topic: set[str], sentences: list[list[str]]) -> dict[str, float]:
    """Per topic word, log((n + 1) / df) ** LOCAL_IDF_POWER over the ``n`` sentences of an
    article (folded syllables each), ``df`` of them holding the word: a word found in every
    sentence (the article's subject) says little about which sentence answers. 1.0 for a word
    none holds."""
    held = [topic.intersection(s) for s in sentences]
    n = len(held)
    out = {}
    for t in topic:
        df = sum(1 for h in held if t in h)
        out[t] = math.log((n + 1) / df) ** LOCAL_IDF_POWER if df else 1.0
    return out


def quote_window(spans: list[tuple[int, int]], start: int, end: int, lead_from: int, limit: int) -> tuple[int, int]:
    """``start``..``end`` of an article grown by whole sentences (``spans``, in order) to at most
    ``limit`` characters: first sentences starting within QUOTE_LEAD_CHARS before ``lead_from``
    (the answering sentence), then the following ones, then earlier ones.

    Why: 107 of the 1,982 vinewsqa-dev questions whose first article was right got a chunk
    without the answer, 42 of them with the answer one or two sentences past the chunk's edge.
    Chunks average 650 characters and the bot shows up to 1,000 (``bot.render.QUOTE_LIMIT``);
    growing them to 1,000 (measured on the first quote, vinewsqa-dev / xquad-vi): quote@1
    0.756 -> 0.773 / 0.934 -> 0.949, average quote 650 -> 919 / 600 -> 711 characters. Choosing
    instead the 1,000-character window holding the most of the question's words: 0.776 / 0.948."""
    before = sum(1 for _, b in spans if b <= start)  # sentences wholly before the quote
    after = next((i for i, (a, _) in enumerate(spans) if a >= end), len(spans))
    while before and lead_from - spans[before - 1][0] <= QUOTE_LEAD_CHARS and end - spans[before - 1][0] <= limit:
        before -= 1
        start = spans[before][0]
    while after < len(spans) and spans[after][1] - start <= limit:
        end = spans[after][1]
        after += 1
    while before and end - spans[before - 1][0] <= limit:
        before -= 1
        start = spans[before][0]
    return start, end


@dataclass
class Hit:
    """One passage to show: an exact span of an article, with its answering sentence."""

    rank: int
    score: float
    chunk: StoredChunk  # the indexed chunk that ranked the article
    highlight: tuple[int, int]  # the answering sentence, as offsets into ``quote``
    # The quote as offsets into the article: the chunk grown by whole sentences around the
    # answering one (``quote_window``); None quotes the chunk as it is.
    span: tuple[int, int] | None = None

    @property
    def quote(self) -> str:
        if self.span is None:
            return self.chunk.text
        return self.chunk.doc.text[self.span[0] : self.span[1]]

    @property
    def doc(self) -> Document:
        return self.chunk.doc

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id


@dataclass
class Answer:
    query: Query
    answered: bool
    hits: list[Hit] = field(default_factory=list)
    coverage: float = 0.0  # share of the question's topic words in the best passage
    similarity: float | None = None  # cosine of question and best passage, when embedded
    confidence: float = 0.0  # what the "nothing relevant" threshold is applied to

    @property
    def question(self) -> str:
        return self.query.text


class Searcher:
    def __init__(self, index: Index, embedder: Embedder | None, cfg: RetrievalConfig):
        self.index, self.embedder, self.cfg = index, embedder, cfg
        self.bigrams = bool(index.manifest.get(LEXICAL, {}).get("bigrams", True))

    def parse(self, question: str) -> Query:
        """The question as this index's BM25 tokens it, its marks restored from the corpus when
        it was typed without them (``retrieval.restore``)."""
        # A few dozen chunks choose marks by chance: on the 21-page test corpus (42 chunks) "tan luc
        # may gio" became "tấn lực máy giờ" and quoted the wrong passage; xquad-vi (349 chunks) and
        # vinewsqa-dev (1,495) gain from restoring.
        enough = len(self.index) >= self.cfg.restore_min_chunks
        restorer = self.index.restorer() if self.cfg.restore_diacritics and enough else None
        if restorer is None:
            return parse_query(question, self.bigrams)
        found: list[int] = []

        def restore(text: str) -> str | None:
            # The folded stream's best chunks for the question as typed: their text tells which
            # forms this topic writes ("hieu" is "Hiếu" in the article about him, though the
            # corpus writes "hiệu" more often), and they are the folded candidates of the search
            # (``_candidates`` no longer searches that stream). Measured at 1e5 chunks, 300
            # vinewsqa-dev questions: parse 3.4 -> 5.2 ms, of which the local text (5 chunks
            # fetched, their syllables counted) 1.3 ms; restoring with it ~1 ms.
            tokens = query_tokens(syllables(text), folded=True, bigrams=self.bigrams)
            ids, scores = self.index.lexical_search(tokens, FOLDED, self.cfg.candidates)
            found.extend(int(i) for i in ids)
            best = [int(i) for i in ids[np.argsort(-scores, kind="stable")[:LOCAL_CHUNKS]]]
            return restorer.restore_text(text, local_counts(c.text for c in self.index.chunks(best)))

        query = parse_query(question, self.bigrams, restore)
        return replace(query, folded_ids=tuple(found)) if query.restored else query

    def topic_idf(self, topic: tuple[str, ...]) -> dict[str, float]:
        """Corpus idf (folded stream) of each topic word, looked up together: what weighs the
        words in ``coverage`` and ``sentence_scores``, made once a search."""
        return dict(zip(topic, self.index.idfs(topic, FOLDED)))

    def coverage(self, topic: tuple[str, ...], text: str, idf: dict[str, float] | None = None) -> float:
        """Share of the question's topic (idf-weighted) that appears in ``text``."""
        if not topic:
            return 0.0
        idf = self.topic_idf(topic) if idf is None else idf
        present = {fold(t) for t in syllables(text)}
        weights = [idf[t] for t in topic]
        hit = sum(w for t, w in zip(topic, weights) if t in present)
        return hit / sum(weights) if sum(weights) else 0.0

    def sentence_scores(
        self, topic: tuple[str, ...], sentences: list[list[str]], context: list[list[str]], idf: dict[str, float] | None = None
    ) -> list[float]:
        """How well each sentence (folded syllables) answers: the topic words it holds, each
        weighted by its corpus idf and by how few sentences of ``context`` (the article) hold
        it, plus a little for each adjacent pair of the question's syllables."""
        wanted = set(topic)
        q_pairs = set(pairwise(topic))
        local = local_weights(wanted, context)
        idf = self.topic_idf(topic) if idf is None else idf
        # Summed in the question's word order, not a set's: a set's order follows the process's
        # hash seed, and float sums in another order broke near-ties differently from run to run.
        weights = {t: idf[t] * local[t] for t in dict.fromkeys(topic)}
        scores = []
        for toks in sentences:
            held = wanted.intersection(toks)
            pairs = sum(1 for p in pairwise(toks) if p in q_pairs)
            scores.append(sum(w for t, w in weights.items() if t in held) + PAIR_WEIGHT * pairs)
        return scores

    def best_sentence(
        self, topic: tuple[str, ...], quote: str, article: str | None = None, idf: dict[str, float] | None = None
    ) -> tuple[int, int]:
        """The sentence of ``quote`` sharing the most topic words with the question, each word
        weighted by its corpus idf and by how few sentences of ``article`` (the text the quote
        comes from; the quote itself when not given) hold it."""
        sentences = folded_sentences(quote) or [((0, len(quote)), [])]
        context = sentences if article is None else folded_sentences(article)
        scores = self.sentence_scores(topic, [toks for _, toks in sentences], [toks for _, toks in context], idf)
        best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
        return sentences[best][0]

    def passage(
        self, topic: tuple[str, ...], chunk: StoredChunk, idf: dict[str, float] | None = None
    ) -> tuple[tuple[int, int] | None, tuple[int, int]]:
        """What to show for ``chunk``: the quote as article offsets (None: the chunk itself) and
        the answering sentence as offsets into that quote. The answering sentence is the chunk's
        best (``sentence_scores``), joined by the next one when that holds topic words too; the
        quote is the chunk grown around them (``quote_window``)."""
        text, cfg = chunk.doc.text, self.cfg
        idf = self.topic_idf(topic) if idf is None else idf
        sentences = folded_sentences(text)
        inside = [i for i, ((a, b), _) in enumerate(sentences) if chunk.start <= a and b <= chunk.end]
        if not inside:  # a piece of one sentence too long for a chunk: sentences of the piece
            return None, self.best_sentence(topic, chunk.text, text, idf)
        scores = self.sentence_scores(topic, [toks for _, toks in sentences], [toks for _, toks in sentences], idf)
        h = max(inside, key=lambda i: (scores[i], -i))
        (ha, hb), nxt = sentences[h][0], h + 1
        # Half of the wrong highlights had the answer in the next sentence: the question restates
        # one sentence and the answer follows. Measured on the first quote (sentence_of_quote@1,
        # vinewsqa-dev / xquad-vi, 1,000-character quotes): one sentence 0.771 / 0.839; joined
        # when the next holds >= 5% of the best's score 0.851 / 0.898 (highlight 129 -> 190
        # characters on average), >= 20% 0.830 / 0.891, always 0.876 / 0.905 (no length cap).
        if nxt < len(sentences) and (cfg.quote_chars > 0 or nxt in inside):
            share = scores[nxt] > 0 and scores[nxt] >= cfg.highlight_next_share * scores[h]
            if share and sentences[nxt][0][1] - ha <= HIGHLIGHT_JOIN_CHARS:
                hb = sentences[nxt][0][1]
        if cfg.quote_chars <= 0:
            return None, (ha - chunk.start, hb - chunk.start)
        start, end = quote_window([span for span, _ in sentences], min(chunk.start, ha), max(chunk.end, hb), ha, cfg.quote_chars)
        return (start, end), (ha - start, hb - start)

    def _candidates(self, query: Query) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Candidate chunk ids, their fused scores, and the query vector (when dense is used)."""
        cfg, index = self.cfg, self.index
        if query.restored:
            dense_weight = cfg.restored_dense_weight
        else:
            dense_weight = cfg.dense_weight if query.accented else cfg.unaccented_dense_weight
        use_dense = self.embedder is not None and (
            cfg.fusion == "dense" or (cfg.fusion != "lexical" and dense_weight > 0)
        )
        qvec, d_ids = None, None
        if use_dense:
            qvec = self.embedder.embed([query.embedding_text], QUERY)[0]
            d_ids, _ = index.dense_search(qvec, cfg.candidates)
        # BM25's best candidates and the dense ones, all scored in one BM25 pass.
        if query.restored and query.folded_tokens and cfg.restored_folded_weight > 0:
            # Restored question: the folded stream, as typed, stays a second lexical signal (a
            # wrongly restored syllable still matches there), and its best chunks are candidates.
            if query.folded_ids:  # searched while restoring (``parse``)
                f_ids = np.asarray(query.folded_ids, dtype=np.int64)
                f_ids = f_ids if d_ids is None else np.union1d(f_ids, d_ids)
            else:
                f_ids, _ = index.lexical_search(query.folded_tokens, FOLDED, cfg.candidates, include=d_ids)
            ids, lex_c = index.lexical_search(query.tokens, query.stream, cfg.candidates, include=f_ids)
            lex_c = lex_c + cfg.restored_folded_weight * index.lexical_scores(query.folded_tokens, FOLDED, ids)
        else:
            ids, lex_c = index.lexical_search(query.tokens, query.stream, cfg.candidates, include=d_ids)
        dense_c = index.dense_scores(qvec, ids) if qvec is not None else np.zeros(len(ids))
        fused = fuse(cfg.fusion, lex_c, dense_c, cfg.lexical_weight, dense_weight if use_dense else 0.0, cfg.rrf_k)
        return ids, fused, qvec

    def quoted(self, hit: Hit, topic: tuple[str, ...], idf: dict[str, float] | None = None) -> Hit:
        """``hit`` with its quote and answering sentence chosen (``passage``)."""
        span, highlight = self.passage(topic, hit.chunk, idf)
        return replace(hit, span=span, highlight=highlight)

    def search(self, question: str | Query, top_k: int | None = None, offset: int = 0, quotes: bool = True) -> Answer:
        """The best ``top_k`` passages after the first ``offset``, grouped by article. With
        ``quotes`` false each hit quotes its whole chunk, for a caller that re-ranks first and
        quotes only what it shows (``quoted``): choosing a quote reads the whole article."""
        query = question if isinstance(question, Query) else self.parse(question)
        top_k = self.cfg.top_k if top_k is None else top_k
        answer = Answer(query=query, answered=False)
        if not query.text or not len(self.index):
            return answer
        ids, fused, qvec = self._candidates(query)
        order = np.argsort(-fused, kind="stable")
        chosen = self._group([int(ids[i]) for i in order], [float(fused[i]) for i in order], top_k + offset)
        idf = self.topic_idf(query.topic)
        for rank, (chunk, score) in enumerate(chosen[offset:], start=offset + 1):
            hit = Hit(rank, round(score, 4), chunk, (0, len(chunk.text)))
            answer.hits.append(self.quoted(hit, query.topic, idf) if quotes else hit)
        if chosen:
            best = chosen[0][0]
            answer.coverage = self.coverage(query.topic, embedding_text(best.doc.title, best.text), idf)
            answer.confidence, threshold = answer.coverage, self.cfg.min_coverage
            # Only for questions with diacritics, typed or restored: the model's similarity to
            # unmarked text is not calibrated (measured: it barely separates on- from off-topic
            # questions there).
            if qvec is not None and self.cfg.answer_dense_weight > 0 and (query.accented or query.restored):
                # Syllables are ambiguous: an off-topic question often shares half its syllables
                # with some passage. The embedding tells those apart; on vinewsqa-dev vs
                # xquad-vi questions this cut false answers from 21% to 5% at 95% recall.
                answer.similarity = float(self.index.dense_scores(qvec, np.array([best.chunk_id]))[0])
                answer.confidence += self.cfg.answer_dense_weight * (answer.similarity - SIMILARITY_CENTER)
                # A restored question's coverage still counts folded syllables ("dau" covers
                # "đầu"), so it needs a higher bar for the same share of off-topic answers.
                threshold = self.cfg.restored_min_confidence if query.restored else self.cfg.min_confidence
            answer.answered = answer.confidence >= threshold
        return answer

    def _group(self, ids: list[int], scores: list[float], want: int) -> list[tuple[StoredChunk, float]]:
        """At most ``max_per_doc`` non-overlapping chunks per article, best first."""
        chosen: list[tuple[StoredChunk, float]] = []
        per_doc: dict[str, list[StoredChunk]] = {}
        batch = max(want * 4, MIN_GROUP_BATCH)
        for i in range(0, len(ids), batch):
            found = {c.chunk_id: c for c in self.index.chunks(ids[i : i + batch])}
            for chunk_id, score in zip(ids[i : i + batch], scores[i : i + batch]):
                chunk = found.get(chunk_id)
                if chunk is None:
                    continue
                taken = per_doc.setdefault(chunk.doc_id, [])
                if len(taken) >= self.cfg.max_per_doc:
                    continue
                if any(chunk.start < t.end and t.start < chunk.end for t in taken):
                    continue
                taken.append(chunk)
                chosen.append((chunk, score))
                if len(chosen) >= want:
                    return chosen
        return chosen
