"""Diacritics restored to a question typed without them, from the corpus's own text.

"hoi nghi bao cao vien to chuc o dau" searched as typed can only match the folded BM25 stream,
where "dau" is also "đầu", "đấu", "dấu", and the embedding model reads it poorly. Restored to
"hội nghị báo cáo viên tổ chức ở đâu" it searches the accented stream and is embedded as people
write, and the folded stream stays a second signal in case a syllable was restored wrongly.

The model is a syllable bigram model over the accented BM25 stream's own statistics: every
accented syllable of the corpus is a candidate for its folded form ("dau" -> đầu, đâu, dầu, ...),
and a sequence is scored by P(syllable | previous syllable), estimated from the number of chunks
holding the pair (the stream's bigram token "hội_nghị") against the chunks holding the first
syllable, interpolated with the syllable's own frequency (Dirichlet prior ``PRIOR``). Viterbi
picks the best sequence. A folded syllable the corpus never wrote with marks stays as typed.
Beside it, the same bigram model over the text of the few chunks the folded question finds
first (``LOCAL_CHUNKS``): the counts of the whole corpus choose "hiệu" for "hieu", the article
the question is about says "Hiếu"; and a question ending in "?" gets an interrogative if any of
its syllables can be one (``Restorer.restore``).

Why the BM25 index's statistics and no model files of its own: they are exactly "counted from
the corpus, kept beside the BM25 index and updated with it" at no cost: nothing to write, load,
checksum or keep in step on an incremental build (whose 5 s budget has ~0.5 s left), no memory
beyond the folded -> accented table (3,552 folded syllables, 9,333 forms at 1e5 Báo Mới chunks,
made when a searcher loads the index: ~0.3 s there), and a generation written before this works
as it is. Chunk frequency instead of raw counts (overlapping chunks and titles count a pair once
per chunk) measured within 0.004 of raw counts on vinewsqa-dev questions (0.954 vs 0.957 per
syllable, an early version of the model). Limit: with ``lexical.bigrams: false`` there are no
pair tokens, and each syllable gets its most frequent form.

Measured (``restoration_accuracy``, vinewsqa-dev's 2,497 questions against its own index,
without the local text): 0.974 of syllables right, 76% of questions entirely (0.969 and 72%
before the interrogative rules); 0.5 ms a question at 1e5 chunks (p95 1.1). The local text
costs the fetch of its chunks and their syllables, measured in ``Searcher.parse``; restoring
with it is what took unmarked vinewsqa-dev Hit@1 0.7785 -> 0.7817 (Hit@5 0.8843 -> 0.8871).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from .text import fold, has_diacritics, syllables

log = logging.getLogger(__name__)

# Dirichlet prior of the bigram estimate: how many chunks' worth of evidence the unigram
# frequency is worth. Swept on vinewsqa-dev questions (per-syllable accuracy, before the
# interrogatives were handled): 1 -> 0.951, 10 -> 0.957, 30 -> 0.9585, 100 -> 0.958, 1000 -> 0.948.
PRIOR = 30.0
# Forms kept per folded syllable, the most frequent first ("dau" has 8 in vinewsqa-dev, "a"
# more, the rarest being typos and names). Bounds the Viterbi step at MAX_FORMS² pairs; 4 / 8 /
# 12 measured 0.953 / 0.964 / 0.965 per syllable on vinewsqa-dev questions (before the
# interrogatives were handled).
MAX_FORMS = 12
# See ``Restorer.preferred``.
QUESTION_BOOST = 2.0
# The chunks the folded stream ranks first for an unmarked question, whose text is the local
# evidence of ``Restorer.restore`` (``local_counts``): the forms this topic writes, names above
# all ("hieu" is "Hiếu" in the article about him, though the corpus writes "hiệu" more often).
LOCAL_CHUNKS = 5
# Weight of that local bigram model against the corpus one, and its Dirichlet prior (in
# syllables of the local text). Unmarked vinewsqa-dev Hit@1 / Hit@5 (restored_dense_weight 0.7,
# with the "?" rule): no local text 0.7785 / 0.8843; 5 chunks, weight 0.6, prior 20: 0.7817 /
# 0.8871; 10 chunks: 0.7813 / 0.8859. Without the "?" rule, 5 chunks: weight 0.6, prior 20:
# 0.7805 / 0.8871; 0.9 / 5: 0.7805 / 0.8859; 10 chunks, 0.3 / 5: 0.7797 / 0.8835. It costs
# off-topic answers (xquad-vi questions asked of vinewsqa-dev: 4.4% -> 5.1% answered) as a
# topic's words are more often restored as that topic writes them.
LOCAL_WEIGHT = 0.6
LOCAL_PRIOR = 20.0
LOCAL_TOTAL = "\0total"  # key of ``local_counts``' syllable total (no token has a NUL)
_WORD = re.compile(r"\w+")
_I_TO_Y = str.maketrans("iìíỉĩị", "yỳýỷỹỵ")

Freqs = Callable[[Sequence[str]], np.ndarray]  # tokens -> chunks holding each (0: unknown)


def syllable_forms(words: Iterable[tuple[str, int]]) -> dict[str, tuple[str, ...]]:
    """Folded syllable -> its accented forms in the corpus, most frequent first, from
    (accented stream token, chunk frequency) pairs. Bigram tokens ("a_b") are skipped, and so
    are folded syllables the corpus only writes unmarked (nothing to restore)."""
    plain: dict[str, int] = {}
    groups: dict[str, list[tuple[int, str]]] = {}
    for word, freq in words:
        if "_" in word:
            continue
        if word.isascii():  # its own folded form: a candidate only beside marked spellings
            plain[word] = freq
            continue
        key = fold(word)
        if key != word:
            groups.setdefault(key, []).append((freq, word))
    for key, forms in groups.items():
        if key in plain:
            forms.append((plain[key], key))
    return {k: tuple(w for _, w in sorted(v, key=lambda p: (-p[0], p[1]))[:MAX_FORMS]) for k, v in groups.items()}


def vocabulary_forms(words: list[str], indptr: np.ndarray) -> tuple[dict[str, tuple[str, ...]], float]:
    """(``syllable_forms``, total chunk frequency of the syllables) of a BM25 stream's vocabulary
    (``words`` in column order) and its column pointers (a token's chunk count is the length of
    its column)."""
    # One pass over the vocabulary (1.4M tokens at 1e5 chunks, 3% of them single syllables);
    # the rest in numpy.
    uni = np.asarray([i for i, w in enumerate(words) if "_" not in w], dtype=np.int64)
    df = indptr[uni + 1] - indptr[uni] if len(uni) else np.zeros(0, dtype=np.int64)
    forms = syllable_forms(zip((words[i] for i in uni.tolist()), df.tolist()))
    return forms, float(df.sum())


@dataclass(frozen=True)
class Restorer:
    """Restores the marks of folded syllables from a corpus's statistics (see module doc)."""

    forms: dict[str, tuple[str, ...]]  # folded syllable -> accented forms, most frequent first
    freqs: Freqs  # chunk frequency of accented tokens: syllables and "a_b" pairs
    total: float  # sum of every syllable's chunk frequency (the unigram denominator)
    # Phrases restored the same way wherever they occur, folded -> accented: the interrogatives
    # ("o dau" -> "ở đâu"). News text rarely asks questions, so its counts prefer "ở đầu" (at
    # the head of), and a wrongly restored interrogative would also escape being dropped from
    # the BM25 query. Only phrases of two syllables or more: alone "nao" is as often "não".
    fixed: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    # Syllables a question is likelier to hold than news text: the one-syllable interrogatives
    # ("nào", "đâu", "mấy"). Each counts as QUESTION_BOOST times as frequent as the most
    # frequent form of its folded syllable, and pairs the corpus holds still decide: "loại
    # thuốc nào" stays a question, "chấn thương não" (brain) stays news. Without it "nào"
    # became "não" in 195 of 2,497 vinewsqa-dev questions, a sixth of all errors.
    preferred: frozenset[str] = frozenset()
    prior: float = PRIOR

    def _candidates(self, folded: Sequence[str]) -> tuple[list[tuple[str, ...]], list[bool]]:
        """Each syllable's candidate forms, and whether it starts a ``fixed`` phrase."""
        cands = [self.forms.get(f) or (f,) for f in folded]
        starts = [False] * len(folded)
        longest = max(map(len, self.fixed), default=0)
        i = 0
        while i < len(folded):
            for n in range(min(longest, len(folded) - i), 1, -1):
                accented = self.fixed.get(tuple(folded[i : i + n]))
                if accented is not None:
                    cands[i : i + n] = [(w,) for w in accented]
                    starts[i] = True
                    i += n - 1
                    break
            i += 1
        return cands, starts

    def restore(self, folded: Sequence[str], asks: bool = False, local: Counter[str] | None = None) -> list[str]:
        """The most likely accented syllables for these folded ones (unknown ones as given).

        ``asks``: the text is a question (it ends with "?"), so it holds an interrogative: when
        the best sequence has none and a syllable can be one, the best sequence with one is
        taken. On vinewsqa-dev questions the best sequence had none in 137, though 124 do ("loại
        nhân sâm não có thể bảo quản..."): per syllable 0.9702 -> 0.9736, whole questions 73% ->
        76% (xquad-vi 0.9693 -> 0.9699). A text without "?" may be words searched ("u nao": "u
        não") and is left to the counts.

        ``local``: counts of the text the question's folded search found first (``local_counts``):
        a second bigram model, interpolated with the corpus's (``LOCAL_WEIGHT``)."""
        cands, phrase_starts = self._candidates(folded)
        if all(len(c) == 1 for c in cands):
            return [c[0] for c in cands]
        first, conds = self._lattice(cands, phrase_starts, local)
        _, path = _viterbi(first, conds)
        if asks and not any(phrase_starts) and not any(c[j] in self.preferred for c, j in zip(cands, path)):
            path = self._asking(first, conds, cands) or path
        return [c[j] for c, j in zip(cands, path)]

    def _asking(self, first: np.ndarray, conds: list[np.ndarray], cands: list[tuple[str, ...]]) -> list[int] | None:
        """The best path holding one of the ``preferred`` interrogatives, if any can."""
        best_score, best_path = -np.inf, None
        for i, c in enumerate(cands):
            allowed = np.asarray([w in self.preferred for w in c])
            if allowed.any():
                score, path = _viterbi(first, conds, (i, allowed))
                if score > best_score:
                    best_score, best_path = score, path
        return best_path

    def _lattice(
        self, cands: list[tuple[str, ...]], phrase_starts: list[bool], local: Counter[str] | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """log P of the first syllable's forms, and per later syllable the matrix of log P(form |
        previous form)."""
        # Every frequency the search needs, in one vectorised lookup: unigrams, then the pairs
        # of each step.
        unis = [w for c in cands for w in c]
        pairs = [f"{a}_{b}" for prev, cur in pairwise(cands) for a in prev for b in cur]
        found = np.asarray(self.freqs(unis + pairs), dtype=np.float64)
        uni_f, pair_f = found[: len(unis)], found[len(unis) :]
        if self.preferred:
            at = 0
            for c in cands:
                for j, w in enumerate(c):
                    if w in self.preferred:
                        uni_f[at + j] = QUESTION_BOOST * uni_f[at : at + len(c)].max()
                at += len(c)
        total = max(self.total, 1.0)
        # Unseen forms (kept as typed) get half a chunk: never log(0).
        p_uni = (uni_f + 0.5) / total
        local = local or Counter()
        lam = LOCAL_WEIGHT if local else 0.0
        l_uni = np.asarray([local[w] for w in unis], dtype=np.float64)
        l_pair = np.asarray([local[w] for w in pairs], dtype=np.float64)
        lp_uni = l_uni / max(local[LOCAL_TOTAL], 1)
        at, step = 0, []
        for c in cands:
            s = slice(at, at + len(c))
            step.append((uni_f[s], p_uni[s], l_uni[s], lp_uni[s]))
            at += len(c)
        conds: list[np.ndarray] = []
        at = 0
        for i in range(1, len(cands)):
            prev_f = step[i - 1][0]
            n_prev, n_cur = len(cands[i - 1]), len(cands[i])
            pair = pair_f[at : at + n_prev * n_cur].reshape(n_prev, n_cur)
            lpair = l_pair[at : at + n_prev * n_cur].reshape(n_prev, n_cur)
            at += n_prev * n_cur
            if not step[i][0].any() or phrase_starts[i]:
                # A word the corpus does not know says nothing about its neighbours (as a pair
                # it would make every frequent form before it look equally unlikely), nor does
                # an interrogative phrase: news rarely asks, so no chunk of vinewsqa-dev holds
                # "có bao" and one holds "co bao": "co bao nhieu" became "co bao nhiêu" (per
                # syllable 0.9687 -> 0.9702 on vinewsqa-dev questions without this pair).
                conds.append(np.zeros((n_prev, n_cur)))
            else:
                # P(cur | prev) = (pairs + prior * P(cur)) / (prev + prior), in the corpus
                # (chunk counts) and in the local text (occurrences), interpolated.
                g = (pair + self.prior * step[i][1][None, :]) / (prev_f + self.prior)[:, None]
                loc = (lpair + LOCAL_PRIOR * step[i][3][None, :]) / (step[i - 1][2] + LOCAL_PRIOR)[:, None]
                conds.append(np.log((1 - lam) * g + lam * loc))
        return np.log((1 - lam) * step[0][1] + lam * step[0][3]), conds

    def restore_text(self, text: str, local: Counter[str] | None = None) -> str | None:
        """``text`` with its words' marks restored, case and punctuation kept; None when it
        already has marks or nothing was restored. ``local``: see ``local_counts``."""
        words = list(_WORD.finditer(text))
        if not words or has_diacritics(text):
            return None
        typed = [syllables(m.group())[0] if syllables(m.group()) else m.group().lower() for m in words]
        restored = self.restore(typed, asks=text.rstrip().endswith("?"), local=local)
        if restored == typed:
            return None
        out, last = [], 0
        for m, was, new in zip(words, typed, restored):
            out.append(text[last : m.start()])
            out.append(_shape(m.group(), new) if new != was else m.group())
            last = m.end()
        out.append(text[last:])
        return "".join(out)


def local_counts(texts: Iterable[str]) -> Counter[str]:
    """Syllables and syllable pairs of these texts (the chunks a question's folded search found
    first), with their total number of syllables under ``LOCAL_TOTAL``."""
    counts: Counter[str] = Counter()
    for text in texts:
        syl = syllables(text)
        counts.update(syl)
        counts.update(f"{a}_{b}" for a, b in pairwise(syl))
        counts[LOCAL_TOTAL] += len(syl)
    return counts


def _viterbi(first: np.ndarray, conds: list[np.ndarray], only: tuple[int, np.ndarray] | None = None) -> tuple[float, list[int]]:
    """(log probability, form index per syllable) of the best path through the lattice;
    ``only`` = (syllable, mask of its forms allowed)."""
    score = first.copy()
    if only is not None and only[0] == 0:
        score[~only[1]] = -np.inf
    back: list[np.ndarray] = []
    for i, cond in enumerate(conds, start=1):
        total_score = score[:, None] + cond
        best = np.argmax(total_score, axis=0)
        back.append(best)
        score = total_score[best, np.arange(cond.shape[1])]
        if only is not None and only[0] == i:
            score[~only[1]] = -np.inf
    path = [int(np.argmax(score))]
    best_score = float(score[path[0]])
    for best in reversed(back):
        path.append(int(best[path[-1]]))
    path.reverse()
    return best_score, path


def _shape(typed: str, restored: str) -> str:
    """The restored syllable in the typed word's case and final i/y spelling ("ky" -> "kỳ",
    though the index spells it "kì")."""
    if typed[-1:].lower() == "y" and restored[-1:] in "iìíỉĩị":
        restored = restored[:-1] + restored[-1].translate(_I_TO_Y)
    if len(typed) > 1 and typed.isupper():
        return restored.upper()
    if typed[:1].isupper():
        return restored[:1].upper() + restored[1:]
    return restored


def restoration_accuracy(questions: Iterable[str], restorer: Restorer) -> tuple[float, float]:
    """(share of syllables, share of questions) restored exactly: each question's marks are
    stripped, restored (as a question when it ends with "?"; without local text), and compared
    syllable by syllable with the original (one tone and i/y convention, as ``syllables`` writes
    them)."""
    right = total = whole = n = 0
    for q in questions:
        gold = syllables(q)
        if not gold:
            continue
        got = restorer.restore([fold(s) for s in gold], asks=q.rstrip().endswith("?"))
        same = sum(a == b for a, b in zip(got, gold))
        right, total, whole, n = right + same, total + len(gold), whole + (same == len(gold)), n + 1
    return (right / total if total else 0.0, whole / n if n else 0.0)
