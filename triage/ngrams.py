"""The n-grams and TF-IDF weights of a fitted vectoriser, applied without scikit-learn.

Training fits scikit-learn's vectorisers; the worker only needs their vocabularies, their idf
weights and the way they cut a text into n-grams. Importing scikit-learn costs a worker about
65 MB of memory (it pulls in much of SciPy), which alone would push it past its memory budget,
so `NgramBlock` carries just that data and re-implements the two analysers Probity uses:
`char_wb` (character n-grams inside words, padded with a space) and `word` (word n-grams). A test
checks both against scikit-learn's own output on the corpus.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

WORD_PATTERN = r"(?u)\b\w+\b"
_WHITE_SPACES = re.compile(r"\s\s+")
_WORDS = re.compile(WORD_PATTERN)


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams of each word padded with one space on each side (scikit-learn's char_wb)."""
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text).split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if length <= n:  # the whole padded word, once; longer n-grams cannot exist
                grams.append(padded)
                break
            grams += [padded[start : start + n] for start in range(length - n + 1)]
    return grams


def word_ngrams(text: str, low: int, high: int) -> list[str]:
    """Runs of `low` to `high` words, joined by one space (scikit-learn's word analyser)."""
    words = _WORDS.findall(text)
    grams = list(words) if low == 1 else []
    for n in range(max(low, 2), min(high, len(words)) + 1):
        grams.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return grams


_ANALYSERS = {"char_wb": char_wb_ngrams, "word": word_ngrams}


@dataclass(frozen=True)
class NgramBlock:
    """One fitted TF-IDF vectoriser as data: analyser, n-gram range, vocabulary and idf weights."""

    analyser: str
    ngram_range: tuple[int, int]
    vocabulary: dict[str, int]
    idf: np.ndarray  # float32, one weight per vocabulary column

    def __post_init__(self) -> None:
        if self.analyser not in _ANALYSERS:
            raise ValueError(f"unsupported analyser {self.analyser!r}")

    @property
    def size(self) -> int:
        return len(self.idf)

    def analyse(self, text: str) -> list[str]:
        return _ANALYSERS[self.analyser](text, *self.ngram_range)

    @classmethod
    def from_vectoriser(cls, vectoriser: Any) -> "NgramBlock":
        """Capture a fitted TfidfVectorizer or CountVectorizer that uses only what this module
        re-implements; anything else is refused rather than silently analysed differently."""
        supported = (
            vectoriser.analyzer in _ANALYSERS
            and vectoriser.lowercase is False
            and vectoriser.preprocessor is None
            and vectoriser.tokenizer is None
            and vectoriser.strip_accents is None
            and vectoriser.stop_words is None
            and (vectoriser.analyzer != "word" or vectoriser.token_pattern == WORD_PATTERN)
        )
        if not supported:
            raise ValueError("the vectoriser uses options the run-time analyser does not implement")
        idf = getattr(vectoriser, "idf_", None)
        weights = np.ones(len(vectoriser.vocabulary_), dtype=np.float32) if idf is None else idf.astype(np.float32)
        return cls(vectoriser.analyzer, tuple(vectoriser.ngram_range), dict(vectoriser.vocabulary_), weights)


class TermCounter:
    """Counts how often each of a block's vocabulary columns occurs in a text.

    Character n-grams never cross a word, so a word's columns are the same wherever it occurs:
    they are looked up once and remembered for the first `cache_words` distinct words (reports
    repeat most of their words), which halves the cost of the character block.
    """

    def __init__(self, block: NgramBlock, cache_words: int = 20_000) -> None:
        self._block = block
        self._cache: dict[str, tuple[int, ...]] | None = {} if block.analyser == "char_wb" else None
        self._cache_words = cache_words

    def __call__(self, text: str) -> dict[int, int]:
        vocabulary = self._block.vocabulary
        if self._cache is None:
            counted = Counter(map(vocabulary.get, self._block.analyse(text)))
            counted.pop(None, None)
            return counted  # type: ignore[return-value]
        low, high = self._block.ngram_range
        columns: list[int] = []
        for word in _WHITE_SPACES.sub(" ", text).split():
            known = self._cache.get(word)
            if known is None:
                known = tuple(j for j in map(vocabulary.get, char_wb_ngrams(word, low, high)) if j is not None)
                if len(self._cache) < self._cache_words:
                    self._cache[word] = known
            columns.extend(known)
        return Counter(columns)
