"""The ``qabot`` console command, run as a user runs it (a subprocess)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from retrieval.onnx_export import EXPORT_VERSION

from .conftest import REPO


def qabot(*args, cwd, **env):
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=600,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO), **env},
    )


def test_first_ask_installs_the_model_builds_the_index_and_prints_json(tmp_path):
    # A fresh machine: no model folder yet (and HF_HUB_OFFLINE=1: nothing may be downloaded).
    config = (REPO / "config.yaml").read_text(encoding="utf-8")
    assert "  cache_dir: null\n" in config
    (tmp_path / "config.yaml").write_text(config.replace("  cache_dir: null\n", "  cache_dir: models\n"), encoding="utf-8")
    shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    out = qabot("ask", "--json", "Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "model install" in out.stderr and any((tmp_path / "models").iterdir())
    assert "Embedding" in out.stderr  # the progress bar of the first build
    result = json.loads(out.stdout)
    assert result["answered"] is True
    top = result["passages"][0]
    assert set(top) == {"rank", "score", "doc_id", "title", "date", "source", "url", "quote", "highlight"}
    a, b = top["highlight"]
    assert "Chiều 28/12, tại Hà Nội" in top["quote"][a:b]

    text = qabot("ask", "Giá vàng hôm nay bao nhiêu?", cwd=tmp_path)
    assert text.returncode == 0 and "Không tìm thấy" in text.stdout

    text = qabot("ask", "Hoi nghi bao cao vien thang 12/2023 duoc to chuc o dau?", cwd=tmp_path)
    assert "**Chiều 28/12, tại Hà Nội" in text.stdout
    assert "Hội nghị báo cáo viên cấp Đảng ủy Khối các cơ quan Trung ương tháng 12/2023 (28/12/2023 · TTXVN)" in text.stdout


def test_index_prints_a_summary_and_errors_are_messages(tmp_path):
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    (tmp_path / "corpus" / "hong.txt").write_bytes(b"\xff\xff\xff")
    out = qabot("index", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "2 added, 0 changed, 0 removed, 0 unchanged, 1 failed" in out.stdout
    assert "hong.txt" in out.stdout
    bad = qabot("ask", "x", "--config", str(tmp_path / "missing.yaml"), cwd=tmp_path)
    assert bad.returncode == 2 and "config file not found" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_model_install_prints_the_folder_last(tmp_path):
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    out = qabot("model", "install", "--dest", str(tmp_path / "models"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    folder = out.stdout.strip().splitlines()[-1]
    assert folder.startswith(str(tmp_path / "models")) and (tmp_path / "models").is_dir()
    # The default encoder's int8 export is written too: serving never exports on a first question.
    assert [p.name for p in (Path(folder) / "onnx").glob("model-int8-v*.onnx")] == [f"model-int8-v{EXPORT_VERSION}.onnx"]
    again = qabot("model", "install", "--dest", str(tmp_path / "models"), cwd=tmp_path)
    assert again.stdout.strip().splitlines()[-1] == folder


def test_eval_compares_variants_on_our_cases_as_json(tmp_path):
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    cases = str(REPO / "tests" / "eval_cases.jsonl")
    out = qabot("eval", cases, "--json", "--variant", "bm25-only:retrieval.fusion=lexical", "--misses", "m.jsonl", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert list(result) == ["default", "bm25-only"]
    assert list(result["default"])[:6] == ["hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10"]
    assert {"quote@1", "answered", "declined", "p50_ms", "p95_ms"} <= set(result["default"])
    assert (tmp_path / "m.jsonl").exists()
    assert "Embedding" in out.stderr and "default: questions" in out.stderr  # progress bars
    assert not (tmp_path / ".qabot" / "index").exists()  # the live index is never touched
    bad = qabot("eval", str(tmp_path / "nothing.jsonl"), cwd=tmp_path)
    assert bad.returncode == 2 and "no such dataset" in bad.stderr


def test_inspect_shows_documents_and_every_dropped_line_with_its_reason(tmp_path):
    page = tmp_path / "tin.txt"
    page.write_text(
        "Trang chủ | Thời sự | Giao thông\nKhởi công cầu Thủ Thiêm 4 nối TP Thủ Đức với quận 7\n"
        "Thứ tư, 6/3/2024, 14:20 (GMT+7)\nTTO - Sáng 6/3, TP.HCM khởi công cầu Thủ Thiêm 4.\n"
        "Ý kiến (1)\nCầu này chắc phải 10 năm nữa mới xong.\n",
        encoding="utf-8",
    )
    out = qabot("inspect", str(page), "--config", str(REPO / "config.yaml"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Khởi công cầu Thủ Thiêm 4 nối TP Thủ Đức với quận 7 (06/03/2024 · TTO)" in out.stdout
    assert "dropped line 1 (navigation): Trang chủ | Thời sự | Giao thông" in out.stdout
    assert "dropped line 6 (comments): Cầu này chắc phải 10 năm nữa mới xong." in out.stdout
    missing = qabot("inspect", str(tmp_path / "khong-co.txt"), "--config", str(REPO / "config.yaml"), cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_index_backend_milvus_copies_the_local_index_without_embedding(tmp_path):
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    home = str(Path.home())  # every run finds the model where the others do (the user's cache)
    assert qabot("index", cwd=tmp_path, HOME=home).returncode == 0
    question = "Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?"
    local = qabot("ask", "--json", question, cwd=tmp_path, HOME=home)
    homeless = qabot("index", "--backend", "milvus", cwd=tmp_path)
    assert homeless.returncode == 2 and "needs the HOME environment variable" in homeless.stderr
    out = qabot("index", "--backend", "milvus", cwd=tmp_path, HOME=home)
    assert out.returncode == 0, out.stderr
    assert "copied the local index into Milvus: 2 documents" in out.stdout and "nothing embedded" in out.stdout
    assert "0 added, 0 changed, 0 removed, 2 unchanged" in out.stdout  # the corpus then finds it whole
    assert "Embedding" not in out.stderr
    assert "set it to milvus" in out.stdout
    config = (tmp_path / "config.yaml").read_text(encoding="utf-8")
    (tmp_path / "config.yaml").write_text(config.replace("  path: .qabot/index\n", "  path: .qabot/index\n  backend: milvus\n"), encoding="utf-8")
    milvus = qabot("ask", "--json", question, cwd=tmp_path, HOME=home)
    assert milvus.returncode == 0, milvus.stderr
    assert json.loads(milvus.stdout) == json.loads(local.stdout)
