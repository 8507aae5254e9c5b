"""Eval datasets: a BEIR folder or a JSONL file of our own cases, read into one ``Dataset``; and a
BEIR corpus turned into the engine's ``Document`` records."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..ingest import Corpus, FileProblem, RecordError, document_from_record

log = logging.getLogger(__name__)

# The file name a BEIR corpus's documents are attributed to: doc ids are "corpus.jsonl#<id>".
CORPUS_FILE = "corpus.jsonl"


class DatasetError(ValueError):
    """An eval dataset that cannot be read; the message names the file and line."""


@dataclass
class Dataset:
    name: str
    corpus: dict[str, dict] | None  # doc id -> {"title", "text"}; None: the configured corpus
    queries: dict[str, str]  # query id -> text
    relevant_docs: dict[str, set[str]]  # query id -> relevant doc ids (article level)
    answers: dict[str, list[str]] = field(default_factory=dict)  # query id -> answer strings
    no_answer: set[str] = field(default_factory=set)  # query ids the corpus does not answer


def _jsonl(path: Path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path}:{n}: not JSON ({exc.msg})") from None


def load_beir(folder: Path) -> Dataset:
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (folder / name).is_file():
            raise DatasetError(f"{folder} is not a BEIR folder: {name} is missing")
    corpus = {str(r["_id"]): {"title": r.get("title") or "", "text": r["text"]} for _, r in _jsonl(folder / "corpus.jsonl")}
    queries, answers = {}, {}
    for _, rec in _jsonl(folder / "queries.jsonl"):
        queries[str(rec["_id"])] = rec["text"]
        if rec.get("answers"):
            answers[str(rec["_id"])] = [a for a in rec["answers"] if a.strip()]
    relevant: dict[str, set[str]] = {}
    with open(folder / "qrels.tsv", encoding="utf-8") as f:
        for n, line in enumerate(f):
            parts = line.rstrip("\n").split("\t")
            if n == 0 and not parts[-1].lstrip("-").isdigit():
                continue
            if len(parts) >= 3 and int(parts[2]) > 0:
                relevant.setdefault(parts[0], set()).add(parts[1])
    queries = {q: t for q, t in queries.items() if q in relevant}
    return Dataset(folder.name, corpus, queries, relevant, {q: a for q, a in answers.items() if q in queries})


def load_cases(path: Path) -> Dataset:
    """Our own eval cases, run over the configured corpus (see the package docstring)."""
    queries, relevant, answers, no_answer = {}, {}, {}, set()
    for n, rec in _jsonl(path):
        qid = str(rec.get("id", n))
        question = rec.get("question")
        if not isinstance(question, str) or not question.strip():
            raise DatasetError(f"{path}:{n}: a case needs a non-empty \"question\"")
        if "answer" not in rec:
            raise DatasetError(f"{path}:{n}: a case needs \"answer\" (text the quote must contain, or null)")
        queries[qid] = question
        answer = rec["answer"]
        if answer is None:
            no_answer.add(qid)
            continue
        alternatives = [answer] if isinstance(answer, str) else list(answer)
        if not alternatives or not all(isinstance(a, str) and a.strip() for a in alternatives):
            raise DatasetError(f"{path}:{n}: \"answer\" must be text, a list of texts, or null")
        answers[qid] = alternatives
        if rec.get("doc_id"):
            relevant[qid] = {str(rec["doc_id"])}
    if not queries:
        raise DatasetError(f"{path}: no cases")
    return Dataset(path.stem, None, queries, relevant, answers, no_answer)


def load_dataset(path: Path) -> Dataset:
    """A BEIR folder or a JSONL file of our own cases."""
    if path.is_dir():
        return load_beir(path)
    if path.is_file():
        return load_cases(path)
    raise DatasetError(f"{path}: no such dataset (a BEIR folder or a .jsonl file of cases)")


def conversations(data: Dataset, qids: list[str] | None = None) -> list[list[str]]:
    """The questions as chats, one per article: runs of consecutive questions (in the dataset's
    order, or ``qids``'s) about the same article(s). ``DatasetError`` when questions have no
    article ids, or an article's questions are not all together (the order would mean nothing)."""
    qids = list(data.queries) if qids is None else qids
    runs: list[list[str]] = []
    keys: list[frozenset[str]] = []
    for qid in qids:
        key = frozenset(data.relevant_docs.get(qid, ()))
        if not key:
            raise DatasetError(f"{data.name}: question {qid} names no article; follow-ups need questions grouped by article")
        if keys and keys[-1] == key:
            runs[-1].append(qid)
        else:
            runs.append([qid])
            keys.append(key)
    if len(set(keys)) < len(keys):
        raise DatasetError(f"{data.name}: the questions are not grouped by article (an article's questions come apart)")
    return runs


def dataset_corpus(data: Dataset) -> Corpus:
    """The BEIR corpus of ``data`` as the engine's documents, exactly as ingesting it from a
    ``corpus.jsonl`` file (one ``{"id", "title", "text"}`` record a line) would give them, with
    nothing written. A record ingestion rejects is in ``failed`` as a ``FileProblem`` at
    ``corpus.jsonl:<line>``, and logged."""
    if data.corpus is None:
        raise ValueError(f"{data.name}: a dataset of cases has no corpus of its own")
    corpus = Corpus()
    for line, (doc_id, d) in enumerate(data.corpus.items(), start=1):
        try:
            corpus.documents.append(document_from_record({"id": doc_id, "title": d["title"], "text": d["text"]}, CORPUS_FILE, line))
        except RecordError as exc:
            corpus.failed.append(FileProblem(f"{CORPUS_FILE}:{line}", str(exc)))
    if not data.corpus:
        corpus.failed.append(FileProblem(CORPUS_FILE, "empty file"))
    for problem in corpus.failed:
        log.warning("could not ingest %s: %s", problem.path, problem.reason)
    return corpus
