"""Tokenizers for the CLIP text encoder.

Every tokenizer has the same small interface, so the text side does not care which one it gets:

    tok.vocab_size, tok.sot_token, tok.eot_token     (eot has the highest id: CLIP reads the text
                                                      feature at argmax(tokens))
    tok.encode(text) -> list[int]                    (without sot/eot)
    tok.tokenize(texts, context_length) -> LongTensor [len(texts), context_length], zero-padded
    tok.to_dict() / tokenizer_from_dict(d)           (saved in checkpoints)

- WordTokenizer: the demo's tokenizer. Lower-case, words / numbers / punctuation split, a
  vocabulary built from the training texts. Small and transparent.
- ClipBpeTokenizer: byte-level BPE read from the merges file OpenAI released with CLIP
  (`bpe_simple_vocab_16e6.txt.gz`; not shipped here). Use it with real CLIP text weights, whose
  token embedding has 49408 rows. Written for this project from the published description of
  the scheme; it skips ftfy's text repair.
"""
from __future__ import annotations

import gzip
import html
import re
from collections import Counter
from typing import Dict, Iterable, List, Sequence

import torch

# Words (any script), numbers, and each punctuation mark on its own.
_WORD_PATTERN = re.compile(r"[^\W\d_]+|\d+|[^\w\s]|_", re.UNICODE)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text)).strip().lower()


class Tokenizer:
    vocab_size: int
    sot_token: int
    eot_token: int

    def encode(self, text: str) -> List[int]:
        raise NotImplementedError

    def to_dict(self) -> Dict[str, object]:
        raise NotImplementedError

    def tokenize(self, texts: Sequence[str], context_length: int) -> torch.Tensor:
        """[sot] + tokens + [eot], truncated so that eot always stays (the feature is read there)."""
        out = torch.zeros(len(texts), context_length, dtype=torch.long)
        for i, text in enumerate(texts):
            ids = [self.sot_token] + self.encode(text)[: context_length - 2] + [self.eot_token]
            out[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out


class WordTokenizer(Tokenizer):
    PAD, UNK = "<pad>", "<unk>"
    SOT, EOT = "<sot>", "<eot>"

    def __init__(self, words: Sequence[str]):
        # Layout: pad = 0, unk = 1, words..., sot, eot (eot last = highest id).
        self.itos: List[str] = [self.PAD, self.UNK] + [w for w in words if w not in (self.PAD, self.UNK, self.SOT, self.EOT)]
        self.itos += [self.SOT, self.EOT]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.vocab_size = len(self.itos)
        self.sot_token = self.stoi[self.SOT]
        self.eot_token = self.stoi[self.EOT]
        self.unk_token = self.stoi[self.UNK]

    @staticmethod
    def split(text: str) -> List[str]:
        return _WORD_PATTERN.findall(_clean(text))

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1, extra_texts: Iterable[str] = ()) -> "WordTokenizer":
        """Vocabulary of the words in `texts` seen at least min_count times, most frequent first,
        plus every word of `extra_texts` (e.g. the class prompts, so none of their words is
        unknown)."""
        counts = Counter(w for t in texts for w in cls.split(t))
        words = [w for w, c in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0])) if c >= min_count]
        seen = set(words)
        for t in extra_texts:
            for w in cls.split(t):
                if w not in seen:
                    words.append(w)
                    seen.add(w)
        return cls(words)

    def encode(self, text: str) -> List[int]:
        return [self.stoi.get(w, self.unk_token) for w in self.split(text)]

    def to_dict(self) -> Dict[str, object]:
        return {"kind": "word", "itos": self.itos}


def _bytes_to_unicode() -> Dict[int, str]:
    """A reversible map from the 256 byte values to printable characters: printable Latin-1 bytes
    map to themselves, the others to code points from 256 up (the byte-level BPE convention)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    mapping = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


class ClipBpeTokenizer(Tokenizer):
    # Pre-tokenisation: special tokens, English contractions, letter runs, single digits, runs of
    # other non-space characters. (\p{L} / \p{N} approximated with the standard library's re.)
    _PATTERN = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+", re.IGNORECASE)

    def __init__(self, bpe_path: str, merges_count: int = 49152 - 256 - 2):
        self.bpe_path = bpe_path
        self.merges_count = merges_count
        opener = gzip.open if bpe_path.endswith(".gz") else open
        with opener(bpe_path, "rt", encoding="utf-8") as f:
            lines = f.read().split("\n")
        merges = [tuple(line.split()) for line in lines[1: merges_count + 1] if line.strip()]
        self.byte_encoder = _bytes_to_unicode()
        vocab = list(self.byte_encoder.values())
        vocab = vocab + [v + "</w>" for v in vocab]
        vocab += ["".join(m) for m in merges]
        vocab += ["<|startoftext|>", "<|endoftext|>"]
        self.encoder = {v: i for i, v in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.vocab_size = len(vocab)
        self.sot_token = self.encoder["<|startoftext|>"]
        self.eot_token = self.encoder["<|endoftext|>"]
        self._cache: Dict[str, List[str]] = {}

    def _bpe(self, token: str) -> List[str]:
        if token in self._cache:
            return self._cache[token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = [(word[i], word[i + 1]) for i in range(len(word) - 1)]
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged: List[str] = []
            i = 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        self._cache[token] = word
        return word

    def encode(self, text: str) -> List[int]:
        ids: List[int] = []
        for piece in self._PATTERN.findall(_clean(text)):
            chars = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self._bpe(chars))
        return ids

    def to_dict(self) -> Dict[str, object]:
        return {"kind": "clip-bpe", "path": self.bpe_path, "mergesCount": self.merges_count}


def tokenizer_from_dict(d: Dict[str, object]) -> Tokenizer:
    kind = d.get("kind")
    if kind == "word":
        itos = list(d["itos"])  # type: ignore[arg-type]
        return WordTokenizer(itos[2:-2])
    if kind == "clip-bpe":
        return ClipBpeTokenizer(str(d["path"]), int(d.get("mergesCount", 49152 - 256 - 2)))  # type: ignore[arg-type]
    raise ValueError(f"unknown tokenizer kind {kind!r}")
