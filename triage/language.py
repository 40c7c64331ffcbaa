"""Text normalisation, script detection and a small language identifier.

Reports come from phones, old keyboards and transliteration: the same word can arrive in full-width
forms, with or without accents or Arabic vowel marks, with any of the Arabic alef or yeh variants.
`normalise` folds these together so that the classifier sees one spelling. The language identifier
is a character n-gram model trained on the corpus; script detection narrows its candidates (and
answers alone for scripts it was never trained on) so that it says "und" rather than guess.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from triage.ngrams import char_wb_ngrams

UNDETERMINED = "und"


def _fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    # Latin letters with accents fold to the bare letter: reporters type with and without them.
    for code in range(0x00C0, 0x0250):
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        if base and base != char and base.isascii():
            table[code] = base
    # Arabic vowel marks, Quranic annotation marks and tatweel carry no meaning for triage.
    for code in (*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE), 0x0640):
        table[code] = None
    for variants, base in (("أإآٱ", "ا"), ("ى", "ي"), ("ؤ", "و"), ("ئ", "ي"), ("ة", "ه"), ("ک", "ك"), ("ی", "ي")):
        for char in variants:
            table[ord(char)] = base
    table[ord("ё")] = "е"
    return table


_FOLD = _fold_table()
_NUMBER = re.compile(r"\b\d[\d.,]*\b")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Fold case, width, accents, Arabic marks and letter variants; turn free-standing numbers into 0s.

    Digits inside words are kept: in Arabic written in Latin letters ("3ala", "7aga") they are letters.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFC", text).translate(_FOLD)
    text = _NUMBER.sub(lambda m: re.sub(r"\d", "0", m.group()), text)
    return _SPACE.sub(" ", text).strip()


# Unicode blocks by script; the first matching range wins.
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "Latn"),
    (0x1E00, 0x1EFF, "Latn"),
    (0x0370, 0x03FF, "Grek"),
    (0x0400, 0x052F, "Cyrl"),
    (0x0590, 0x05FF, "Hebr"),
    (0x0600, 0x06FF, "Arab"),
    (0x0750, 0x077F, "Arab"),
    (0x08A0, 0x08FF, "Arab"),
    (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"),
    (0x0900, 0x097F, "Deva"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x1100, 0x11FF, "Hang"),
    (0xAC00, 0xD7AF, "Hang"),
    (0x3040, 0x30FF, "Kana"),
    (0x3400, 0x4DBF, "Hani"),
    (0x4E00, 0x9FFF, "Hani"),
    (0xF900, 0xFAFF, "Hani"),
)

# Tags for scripts that are (almost) only used by one language, for texts the corpus never covered.
_SCRIPT_LANGUAGE = {"Grek": "el", "Hebr": "he", "Thai": "th", "Hang": "ko", "Kana": "ja"}


@lru_cache(maxsize=65536)
def script_of(char: str) -> str | None:
    """ISO 15924 code of a letter's script; None for anything that is not a letter."""
    if not char.isalpha():
        return None
    code = ord(char)
    for low, high, name in _SCRIPT_RANGES:
        if low <= code <= high:
            return name
    return "Zyyy"


def script_counts(text: str) -> Counter[str]:
    counts = Counter(map(script_of, text))
    counts.pop(None, None)
    return counts  # type: ignore[return-value]


def dominant_script(text: str, counts: Counter[str] | None = None) -> str:
    """ISO 15924 code of the script most letters are written in ("Zyyy" when there are none)."""
    counts = script_counts(text) if counts is None else counts
    if counts["Kana"]:
        # Japanese mixes kana with Chinese characters; any kana at all means it is not Chinese.
        return "Kana"
    return counts.most_common(1)[0][0] if counts else "Zyyy"


def _light(text: str) -> str:
    """Case and width folding only: the letters that tell related languages apart must survive."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


@dataclass
class LanguageIdentifier:
    """Character n-gram naive Bayes over the corpus languages, restricted by script.

    A language is a candidate for a text only if the text's script is one the corpus uses for it
    (Arabic written in Latin letters is in the corpus, so Latin text may still be Arabic). Texts in
    scripts the corpus never used get a script-level tag or "und"; so do short texts, texts whose
    best and second-best languages are too close to call, and texts with many letter sequences the
    winning language never showed in training (German is not English just because it is Latin).
    """

    min_letters: int = 12
    min_han: int = 4
    # The opening 200 characters name the language as reliably as 400 on the held-out corpus.
    max_chars: int = 200
    min_margin: float = 0.15
    max_unseen: float = 0.15
    scripts: dict[str, frozenset[str]] = field(default_factory=dict)
    languages: tuple[str, ...] = ()
    ngram_range: tuple[int, int] = (1, 3)
    _vocabulary: dict[str, int] = field(default_factory=dict)
    _log_likelihood: np.ndarray | None = None  # features x languages
    _seen: np.ndarray | None = None  # features x languages: seen at least twice in training
    letters: dict[str, frozenset[str]] = field(default_factory=dict)

    def fit(self, texts: Sequence[str], languages: Sequence[str]) -> "LanguageIdentifier":
        usage: dict[str, Counter[str]] = {}
        for text, lang in zip(texts, languages):
            usage.setdefault(lang, Counter())[dominant_script(text)] += 1
        # A script counts for a language when a fair share of its reports use it, so one stray
        # quotation in another alphabet does not make every Latin text a candidate for Chinese.
        self.scripts = {
            lang: frozenset(s for s, n in counts.items() if n >= max(2, 0.02 * sum(counts.values())))
            for lang, counts in usage.items()
        }
        letter_counts: dict[str, Counter[str]] = {}
        for text, lang in zip(texts, languages):
            letter_counts.setdefault(lang, Counter()).update(ch for ch in _light(text) if ch.isalpha())
        self.letters = {
            lang: frozenset(ch for ch, n in counts.items() if n >= 3) for lang, counts in letter_counts.items()
        }
        # scikit-learn is needed for fitting only: a worker that just identifies never imports it.
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.naive_bayes import MultinomialNB

        vectoriser = CountVectorizer(analyzer="char_wb", ngram_range=self.ngram_range, min_df=2, lowercase=False)
        counts = vectoriser.fit_transform(_light(t) for t in texts)
        model = MultinomialNB(alpha=0.1).fit(counts, list(languages))
        self.languages = tuple(model.classes_)
        self._vocabulary = dict(vectoriser.vocabulary_)
        self._log_likelihood = np.ascontiguousarray(model.feature_log_prob_.T, dtype=np.float32)
        self._seen = (model.feature_count_ >= 2).T
        return self

    def identify(self, text: str) -> str:
        return self.identify_many([text])[0]

    def identify_many(self, texts: Iterable[str]) -> list[str]:
        return [self._identify(text) for text in texts]

    def _identify(self, text: str) -> str:
        if self._log_likelihood is None or self._seen is None:
            raise RuntimeError("the language identifier has not been trained")
        text = text[: self.max_chars]  # the opening of a report says its language as well as the rest
        counts = script_counts(text)
        letters = sum(counts.values())
        script = dominant_script(text, counts)
        allowed = np.array([script in self.scripts.get(lang, ()) for lang in self.languages])
        if not allowed.any():
            return _SCRIPT_LANGUAGE.get(script, UNDETERMINED) if letters >= 2 else UNDETERMINED
        if letters < (self.min_han if script == "Hani" else self.min_letters):
            return UNDETERMINED
        light = _light(text)
        if allowed.sum() == 1:
            best = int(np.argmax(allowed))
        else:
            best = self._best_by_ngrams(light, allowed)
            if best < 0:
                return UNDETERMINED
        if script == "Hani":
            return self.languages[best]
        # A run of letters the language never used (Persian's پ and گ, Ukrainian's ї) means a
        # relative of the trained language, not the language itself.
        foreign = sum(1 for ch in light if ch.isalpha() and ch not in self.letters[self.languages[best]])
        return UNDETERMINED if foreign > max(1, 0.01 * letters) else self.languages[best]

    def _best_by_ngrams(self, light: str, allowed: np.ndarray) -> int:
        """Index of the most likely allowed language, or -1 when the call is too close or too strange."""
        assert self._log_likelihood is not None and self._seen is not None
        grams = char_wb_ngrams(light, *self.ngram_range)
        columns = [j for j in (self._vocabulary.get(g) for g in grams) if j is not None]
        trigrams = [g for g in grams if len(g) == 3]
        if not columns or not trigrams:
            return -1
        log_scores = self._log_likelihood[columns].sum(axis=0)
        log_scores = np.where(allowed, log_scores - log_scores[allowed].max(), -np.inf)
        posterior = np.exp(log_scores) / np.exp(log_scores).sum()
        ranked = np.sort(posterior)[::-1]
        best = int(np.argmax(posterior))
        if ranked[0] - ranked[1] < self.min_margin:
            return -1
        known = sum(1 for g in trigrams if (j := self._vocabulary.get(g)) is not None and self._seen[j, best])
        return -1 if 1 - known / len(trigrams) > self.max_unseen else best
