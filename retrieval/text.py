"""Vietnamese text normalisation and the token streams lexical search is built on.

Everything here is pure and length-aware: ``normalize_marks`` never changes a string's length, so
character spans computed on the stored article text stay valid for the normalised text that is
embedded and tokenised.
"""

from __future__ import annotations

import re
import unicodedata

_TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng (combining, NFD)
_MARKS = r"\u0300-\u036f"
# Old-style tone placement ("hoà", "thuỷ", "uỷ") moved to the first vowel of the open
# syllable ("hòa", "thủy", "ủy"). Only the syllable-final clusters oa/oe/uy are ambiguous;
# "qu" + y ("quý") is a consonant + vowel, not the uy cluster, so it is left alone.
_OLD_STYLE = re.compile(
    rf"(?<![qQ])([oO])([aAeE])([{_TONES}])(?![\w{_MARKS}])"
    rf"|(?<![qQ])([uU])([yY])([{_TONES}])(?![\w{_MARKS}])"
)
_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
# C0/C1 controls and DEL (ESC starts the sequences that drive a terminal, BEL rings it, NUL cuts
# strings short in C code), and the bidi embeddings, overrides and isolates with the LRM/RLM/ALM
# marks: they reorder what is displayed, so a quote could read otherwise than its text. The marks
# alone cannot override, but they are invisible, no Vietnamese text needs them, and they would
# make two copies of a line differ unseen. Not here: ZWJ (emoji sequences), ZWNJ, combining marks.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The line breaks str.splitlines() knows besides \n: kept as breaks, so no two words are joined.
_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Any of the above, or a tab: one scan finds that a text (nearly every text) has none.
_UNSAFE = re.compile("[\t\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _move_tone(m: re.Match) -> str:
    if m.group(1):
        return m.group(1) + m.group(3) + m.group(2)
    return m.group(4) + m.group(6) + m.group(5)


def normalize_marks(text: str) -> str:
    """NFC text with one tone-mark convention, so "hoà" and "hòa" become the same string."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _OLD_STYLE.sub(_move_tone, decomposed))


def strip_controls(text: str) -> str:
    """Text without control or bidi-override characters: tab becomes a space, the other line
    breaks (CR, VT, FF, NEL, U+2028/9) a newline, the rest are removed."""
    if not _UNSAFE.search(text):  # the common case: one scan instead of three
        return text
    return _CONTROLS.sub("", _BREAKS.sub("\n", text.replace("\t", " ")))


def clean_whitespace(text: str) -> str:
    """No controls (``strip_controls``), NFC, unified newlines, runs of spaces collapsed, lines
    stripped, at most one blank line."""
    # Controls go before NFC: a mark separated from its letter by one must compose with it.
    text = unicodedata.normalize("NFC", strip_controls(text))
    text = text.replace("\ufeff", "").replace("\u00ad", "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def fold(text: str) -> str:
    """Lower-case text with every diacritic removed and đ → d: how people type without marks."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return unicodedata.normalize("NFC", "".join(c for c in text if not unicodedata.combining(c)))


def has_diacritics(text: str) -> bool:
    """True when the text carries any Vietnamese mark, i.e. it was not typed "without accents"."""
    return fold(text) != text.lower()


# Bump when the token stream changes: BM25 indexes record it and rebuild on a mismatch.
TOKENS_VERSION = 2
# "bác sỹ"/"bác sĩ", "kỹ"/"kĩ", "lý"/"lí", "Mỹ"/"Mĩ": final i and y after these onsets are two
# spellings of one syllable. Bare "y" ("y tế") and "quy" have no i spelling and are left alone.
_Y_AS_I = re.compile(r"^(h|k|l|m|s|t)([yỳýỷỹỵ])$")
_Y_TO_I = str.maketrans("yỳýỷỹỵ", "iìíỉĩị")


def syllables(text: str) -> list[str]:
    """Lower-cased syllables with one tone placement and one i/y spelling (one-letter
    syllables kept)."""
    out = _WORD.findall(normalize_marks(text.lower()))
    return [t[0] + t[1].translate(_Y_TO_I) if len(t) == 2 and _Y_AS_I.match(t) else t for t in out]


def with_bigrams(tokens: list[str]) -> list[str]:
    """Syllables plus adjacent-syllable bigrams: Vietnamese words are mostly two syllables."""
    return tokens + [f"{a}_{b}" for a, b in zip(tokens, tokens[1:])]


def lexical_tokens(text: str, folded: bool = False, bigrams: bool = True) -> list[str]:
    """The token stream BM25 indexes: accented (default) or folded syllables, optionally + bigrams.
    A question's tokens are made in ``retrieval.query``, which also drops its interrogatives."""
    toks = syllables(text)
    if folded:
        toks = [fold(t) for t in toks]
    return with_bigrams(toks) if bigrams else toks
