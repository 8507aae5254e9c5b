"""Damaged index files (issue 11, item 6): every probe runs the real ``qabot index`` / ``qabot
ask`` (``bot.cli.main`` in-process, the session's e5 model) or the bot's ``QAService`` over an
index whose files were overwritten or cut short, as a disk error, a stray ``cp`` or a hostile
user would leave them.

One index is built per module and copied for each test, so the tests stay independent and
quick; only the files a test damages differ."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import faiss
import pytest
import yaml

import bot.cli
import retrieval.errors
from bot.service import QAService
from retrieval.generations import live_generation
from retrieval.index import load_index
from retrieval.indexer import index_corpus

from .conftest import REPO, SAMPLE, make_config

CHECKSUMS = "files.json"  # a generation's record of its files' sizes and SHA-256
QUESTION = "Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?"
ANSWER = "Chiều 28/12, tại Hà Nội"
EXTRA = """Khánh thành cầu Rạch Miễu 2 nối Tiền Giang và Bến Tre

Sáng 5/3/2024, tại Bến Tre, cầu Rạch Miễu 2 được khánh thành sau ba năm thi công. Cây cầu dài 17 km, tổng vốn đầu tư hơn 5.000 tỷ đồng.

Thanh Hà (TTXVN)
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory, e5) -> Path:
    """A folder with ``corpus/`` (the bundled article) and ``index/`` built from it."""
    root = tmp_path_factory.mktemp("hostile-built")
    (root / "corpus").mkdir()
    shutil.copy(SAMPLE, root / "corpus" / SAMPLE.name)
    index_corpus(make_config(root, root / "corpus"), e5)
    return root


@pytest.fixture
def site(tmp_path, built, e5, monkeypatch) -> Path:
    """A private copy of the built corpus and index, with a config.yaml pointing at them; the
    command line uses the session's model instead of loading its own (seconds per call)."""
    shutil.copytree(built / "corpus", tmp_path / "corpus")
    shutil.copytree(built / "index", tmp_path / "index")
    config = {"corpus": {"path": str(tmp_path / "corpus")}, "index": {"path": str(tmp_path / "index")}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(bot.cli, "_embedder", lambda cfg: e5)
    return tmp_path


def qabot(site: Path, capsys, *args: str) -> tuple[int, str, str]:
    """``qabot ARGS --config site/config.yaml`` in this process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = bot.cli.main([*args, "--config", str(site / "config.yaml")])
    out, err = capsys.readouterr()
    return code, out, err


def live(site: Path) -> Path:
    return live_generation(site / "index")


def damage(path: Path, how: str) -> None:
    """``overwrite``: 64 bytes in the middle replaced, the size kept (FAISS still parses such a
    file: vectors silently wrong); ``header``: the first 64 bytes replaced; ``truncate``: cut
    to half its size."""
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
        return
    at = 0 if how == "header" else len(data) // 2
    data[at : at + 64] = b"\xa5" * min(64, len(data) - at)
    path.write_bytes(bytes(data))


PROBES = [
    ("dense.faiss", "overwrite"),
    ("dense.faiss", "truncate"),
    ("meta.sqlite", "header"),
    ("meta.sqlite", "truncate"),
    ("lexical/ids.npy", "truncate"),
    ("lexical/accented/vocab.txt", "truncate"),
    ("lexical/folded/data.npy", "overwrite"),
]


@pytest.mark.parametrize("file,how", PROBES, ids=[f"{f}-{h}" for f, h in PROBES])
def test_damaged_file_is_named_then_plain_index_repairs_it(site, capsys, file, how):
    damage(live(site) / file, how)

    code, out, err = qabot(site, capsys, "ask", QUESTION)
    assert code == 2, (out, err)
    assert f"qabot: error: index damaged: {file}; run qabot index --rebuild" in err
    assert "Traceback" not in err and str(site) not in err

    code, out, err = qabot(site, capsys, "index")
    assert code == 0, err
    assert f"index damaged: {file}; repaired" in out.splitlines()[0]

    code, out, err = qabot(site, capsys, "ask", "--json", QUESTION)
    assert code == 0, err
    top = json.loads(out)["passages"][0]
    assert ANSWER in top["quote"]
    assert len(list((site / "index").glob("gen-*"))) == 1  # the damaged generation is gone


def test_repairs_rebuild_only_the_damaged_part(site, capsys, e5):
    """BM25 files come back from SQLite with nothing embedded; lost vectors are embedded again
    under the same chunk ids; a lost SQLite store is built again from the corpus."""
    before = load_index(site / "index")
    ids = sorted(before.lexical.ids.tolist())
    before.close()
    cfg = make_config(site, site / "corpus")

    damage(live(site) / "lexical/folded/vocab.txt", "truncate")
    summary = index_corpus(cfg, e5)
    assert summary.repaired == ["lexical/folded/vocab.txt"] and summary.chunks_embedded == 0
    assert summary.unchanged == 2 and not summary.added

    damage(live(site) / "dense.faiss", "overwrite")
    summary = index_corpus(cfg, e5)
    assert summary.repaired == ["dense.faiss"] and summary.chunks_embedded == len(ids)
    index = load_index(site / "index")
    assert sorted(index.lexical.ids.tolist()) == ids
    assert sorted(faiss.vector_to_array(index.dense.index.id_map).tolist()) == ids
    index.close()

    damage(live(site) / "meta.sqlite", "header")
    summary = index_corpus(cfg, e5)
    assert summary.repaired == ["meta.sqlite"] and len(summary.added) == 2
    assert summary.chunks_embedded == summary.chunks == len(ids)


def test_deleted_checksum_file_is_damage_and_index_records_it_again(site, capsys):
    (live(site) / CHECKSUMS).unlink(missing_ok=True)
    code, _, err = qabot(site, capsys, "ask", QUESTION)
    assert code == 2 and f"index damaged: {CHECKSUMS}; run qabot index --rebuild" in err
    code, out, _ = qabot(site, capsys, "index")
    assert code == 0 and f"index damaged: {CHECKSUMS}; repaired" in out
    assert (live(site) / CHECKSUMS).is_file()
    assert qabot(site, capsys, "ask", QUESTION)[0] == 0


def as_before_checksums(gen: Path) -> None:
    """Make ``gen`` look like a generation an older qabot wrote: no files.json, no manifest key."""
    (gen / CHECKSUMS).unlink(missing_ok=True)
    with sqlite3.connect(gen / "meta.sqlite") as db:
        db.execute("DELETE FROM manifest WHERE key = 'checksums'")
    db.close()


def test_generation_from_before_checksums_loads_and_gets_them_recorded(site, capsys):
    """An index built by an older qabot (no files.json, no manifest key) is not refused."""
    gen = live(site)
    as_before_checksums(gen)
    code, out, _ = qabot(site, capsys, "ask", QUESTION)
    assert code == 0 and ANSWER in out
    code, out, _ = qabot(site, capsys, "index")
    assert code == 0 and "repaired" not in out and "2 unchanged" in out
    assert live(site) == gen and (gen / CHECKSUMS).is_file()
    # From now on its files are checked: a cut vocabulary is found.
    damage(gen / "lexical/accented/vocab.txt", "truncate")
    code, _, err = qabot(site, capsys, "ask", QUESTION)
    assert code == 2 and "index damaged: lexical/accented/vocab.txt" in err


def test_old_generation_with_a_cut_vocabulary_is_caught_by_its_shape(site, capsys):
    """Without checksums a truncated vocab.txt still fails: it must have one token per column."""
    gen = live(site)
    as_before_checksums(gen)
    text = (gen / "lexical/accented/vocab.txt").read_text(encoding="utf-8")
    (gen / "lexical/accented/vocab.txt").write_text(text[: text.rindex("\n")], encoding="utf-8")  # one token fewer
    code, _, err = qabot(site, capsys, "ask", QUESTION)
    assert code == 2 and "index damaged: lexical/accented/vocab.txt" in err
    code, out, _ = qabot(site, capsys, "index")
    assert code == 0 and "index damaged: lexical/accented/vocab.txt; repaired" in out
    assert qabot(site, capsys, "ask", QUESTION)[0] == 0


def test_leftovers_are_removed_by_a_build_that_changes_nothing(site, capsys):
    root, gen = site / "index", live(site)
    for name in ("gen-1.tmp", "gen-2"):
        (root / name / "lexical").mkdir(parents=True)
        (root / name / "meta.sqlite").write_bytes(b"cu")
    (root / "CURRENT.new").write_text("gen-2")
    code, out, _ = qabot(site, capsys, "index")
    assert code == 0 and "2 unchanged" in out and "repaired" not in out
    assert sorted(p.name for p in root.iterdir()) == sorted([".lock", "CURRENT", gen.name])
    assert qabot(site, capsys, "ask", QUESTION)[0] == 0


def test_files_cut_under_a_loaded_index_do_not_crash_its_searches(site):
    """The BM25 arrays are in memory, not mapped: cutting them under a running process (which
    killed the bot with SIGBUS) changes nothing for it. In a child process, so that a crash
    fails this test instead of killing the test run."""
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from retrieval.index import load_index
        from retrieval.query import ACCENTED
        index = load_index(Path({str(site / "index")!r}))
        lexical = Path(index.path) / "lexical"
        for stream in ("accented", "folded"):
            for name in ("data", "indices", "indptr"):
                with open(lexical / stream / (name + ".npy"), "r+b") as f:
                    f.truncate(0)
        with open(lexical / "ids.npy", "r+b") as f:
            f.truncate(0)
        ids, scores = index.lexical_search(["hội", "nghị", "báo", "cáo", "viên", "hà", "nội"], ACCENTED, 3)
        best = index.chunks([int(ids[scores.argmax()])])[0]
        print("OK" if {ANSWER!r} in best.text else "WRONG: " + best.text[:80])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"},
    )
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr[-500:]}"
    assert out.stdout.strip() == "OK"


def service_for(site: Path, e5) -> QAService:
    service = QAService(make_config(site, site / "corpus"), e5, workers=1)
    service.open(build_if_missing=False)
    return service


def test_serving_refuses_a_damaged_index_at_start(site, e5):
    damage(live(site) / "dense.faiss", "overwrite")
    service = QAService(make_config(site, site / "corpus"), e5, workers=1)
    with pytest.raises(retrieval.errors.IndexProblem, match=r"^index damaged: dense.faiss; run qabot index --rebuild$"):
        service.open()
    service.close()


def test_reload_repairs_a_damaged_index_and_swaps_it_in(site, e5):
    service = service_for(site, e5)
    served = service._live.searcher
    try:
        damage(live(site) / "dense.faiss", "overwrite")
        damage(live(site) / "lexical/accented/vocab.txt", "truncate")
        # Damage on disk does not reach the index in memory.
        assert ANSWER in asyncio.run(service.ask(QUESTION)).hits[0].quote
        report = asyncio.run(service.reload())
        assert report.error is None, report.error
        assert report.summary.repaired == ["dense.faiss", "lexical/accented/vocab.txt"]
        assert service._live.searcher is not served
        assert ANSWER in asyncio.run(service.ask(QUESTION)).hits[0].quote
        load_index(site / "index").close()  # what is on disk verifies again
    finally:
        service.close()


def test_a_failing_reload_keeps_serving_and_tells_a_short_reason(site, e5, monkeypatch):
    import retrieval.dense
    import retrieval.indexer

    service = service_for(site, e5)
    publish = retrieval.indexer.publish
    try:
        (site / "corpus" / "cau.txt").write_text(EXTRA, encoding="utf-8")  # something to publish
        stats = service.stats

        def disk_full(tmp):
            raise OSError(28, "No space left on device", str(tmp / "dense.faiss"))

        monkeypatch.setattr(retrieval.indexer, "publish", disk_full)
        report = asyncio.run(service.reload())
        assert report.error == "No space left on device (dense.faiss)" and not report.unexpected

        def faiss_error(self, path):
            raise RuntimeError(
                "Error in faiss::FileIOWriter::FileIOWriter(const char*) at /project/faiss/faiss/impl/io.cpp:102: "
                f"Error: 'f' failed: could not open {path} for writing: Input/output error\n"
            )

        monkeypatch.setattr(retrieval.indexer, "publish", publish)
        monkeypatch.setattr(retrieval.dense.DenseIndex, "save", faiss_error)
        report = asyncio.run(service.reload())
        assert report.unexpected and report.error.startswith("RuntimeError: Error in faiss::FileIOWriter")
        assert "could not open dense.faiss for writing" in report.error
        assert str(site) not in report.error and "/project/" not in report.error and "\n" not in report.error

        assert service.stats == stats  # the old index still serves
        assert ANSWER in asyncio.run(service.ask(QUESTION)).hits[0].quote
    finally:
        service.close()
