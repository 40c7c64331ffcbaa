"""The report classifier: a trained artefact on disk and the `Classifier` that applies it.

Everything runs offline. Texts are normalised (see `triage.language`) and turned into TF-IDF weights
over character n-grams (which work for Chinese and Arabic without a word segmenter) and word
n-grams, plus counts of the taxonomy's cue words and a multilingual meaning vector
(`triage.semantic`). Linear SVMs score the primary category and each crime flag; their margins are
calibrated into probabilities, and each flag has its own threshold tuned by cross-validation.

`evidence` in a verdict quotes the report. Callers encrypt it with the report and never log it.
"""
from __future__ import annotations

import fcntl
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import joblib
import numpy as np
from scipy import sparse

from triage.language import LanguageIdentifier, normalise
from triage.ngrams import NgramBlock, TermCounter
from triage.semantic import PieceVectors
from triage.taxonomy import Taxonomy, load_taxonomy

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR_VARIABLE = "PROBITY_MODEL_DIR"
ARTEFACT_NAME = "classifier.joblib"
MANIFEST_NAME = "manifest.json"
# Bumped whenever the artefact layout changes, so an old artefact is retrained, not misread.
ARTEFACT_FORMAT = 3

EVIDENCE_PHRASES = 3
EVIDENCE_TERMS = 24
EVIDENCE_MAX_CHARS = 160
_CLAUSE_BREAK = re.compile(r"(?<=[.!?;:。！？；：…])\s*|[\n\r]+|(?<=[,，、،؛؟])\s*")


@dataclass(frozen=True)
class Verdict:
    category: str
    flags: tuple[str, ...]
    confidence: float
    flag_scores: dict[str, float]
    language: str
    evidence: tuple[str, ...]
    model_version: str


@dataclass
class Artefact:
    """What training produces and the classifier needs; pickled as one file.

    Plain data and NumPy arrays only: loading it must not import scikit-learn (see triage.ngrams).
    """

    version: str
    taxonomy_version: str
    categories: tuple[str, ...]
    flags: tuple[str, ...]
    blocks: tuple[NgramBlock, ...]
    cues: "CueMatcher"
    cue_weight: float
    pieces: PieceVectors
    semantic_weight: float
    primary_weights: np.ndarray  # (features, categories) float32: the linear SVM's coefficients
    primary_bias: np.ndarray  # (categories,)
    primary_temperature: float
    flag_weights: np.ndarray  # (features, flags) float32: one linear SVM per flag
    flag_bias: np.ndarray  # (flags,)
    flag_calibration: dict[str, tuple[float, float]]  # Platt slope and intercept per flag
    thresholds: dict[str, float]
    language: LanguageIdentifier
    hint_odds: float
    summary: dict[str, Any] = field(default_factory=dict)
    format: int = ARTEFACT_FORMAT


def default_model_dir() -> Path:
    return Path(os.environ.get(MODEL_DIR_VARIABLE) or REPO_ROOT / "instance" / "model")


def save_artefact(artefact: Artefact, model_dir: Path) -> None:
    """Write atomically: a worker starting meanwhile sees the old model or the new one, never half."""
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / ARTEFACT_NAME
    partial = model_dir / f".{ARTEFACT_NAME}.{os.getpid()}.partial"
    joblib.dump(artefact, partial)
    os.replace(partial, target)


def read_artefact(model_dir: Path) -> Artefact | None:
    """The artefact in `model_dir`, or None when there is none in the current format."""
    path = model_dir / ARTEFACT_NAME
    if not path.is_file():
        return None
    try:
        artefact = joblib.load(path)
    except Exception as exc:  # a truncated or foreign file: retraining is the cure
        print(f"triage: ignoring unreadable model {path}: {exc}", file=sys.stderr)
        return None
    if not isinstance(artefact, Artefact) or getattr(artefact, "format", None) != ARTEFACT_FORMAT:
        return None
    return artefact


class CueMatcher:
    """Counts each category's cue words (from the taxonomy) in a normalised text.

    The counts are features shared by all languages: what the corpus teaches about "bribe" in
    English also moves "взятка" and "رشوة", which matters when each language has only a few
    hundred labelled reports. Scripts written with spaces match at the start of a word ("brib"
    finds "bribery"); Chinese has no spaces and Arabic attaches articles and prepositions to the
    word, so those cues match anywhere.
    """

    def __init__(self, slugs: Sequence[str], cues: Sequence[Sequence[str]]) -> None:
        self.slugs = tuple(slugs)
        self._at_word_start: dict[str, list[tuple[str, int]]] = {}
        # Cues matched anywhere, grouped by the script that must be in a text for them to match:
        # a Latin or Cyrillic report skips the hundreds of Arabic and Chinese cues at once.
        self._anywhere: dict[str, list[tuple[str, int]]] = {}
        for k, words in enumerate(cues):
            for cue in sorted({normalise(w) for w in words} - {""}):
                if len(cue) >= 2 and cue[0].isalnum() and not _SPACELESS.search(cue):
                    self._at_word_start.setdefault(cue[:2], []).append((cue, k))
                else:
                    script = next((name for name, letters in _SPACELESS_SCRIPTS.items() if letters.search(cue)), "")
                    self._anywhere.setdefault(script, []).append((cue, k))

    @classmethod
    def from_taxonomy(cls, taxonomy: Taxonomy) -> "CueMatcher":
        categories = (*taxonomy.primary, *taxonomy.flags)
        return cls([c.slug for c in categories], [[w for ws in c.cues.values() for w in ws] for c in categories])

    def counts(self, normalised: str) -> np.ndarray:
        found = np.zeros(len(self.slugs), dtype=np.float32)
        for match in _WORD_START.finditer(normalised):
            start = match.start()
            for cue, k in self._at_word_start.get(normalised[start : start + 2], ()):
                if normalised.startswith(cue, start):
                    found[k] += 1
        for script, cues in self._anywhere.items():
            if script and not _SPACELESS_SCRIPTS[script].search(normalised):
                continue
            for cue, k in cues:
                found[k] += normalised.count(cue)
        return np.log1p(found)


_WORD_START = re.compile(r"(?<!\w)\w")
_SPACELESS_SCRIPTS = {"Arab": re.compile("[\u0600-\u06ff]"), "Hani": re.compile("[\u3400-\u9fff]")}
_SPACELESS = re.compile("|".join(letters.pattern for letters in _SPACELESS_SCRIPTS.values()))


class FeatureSpace:
    """The classifier's features, in column order: TF-IDF blocks exactly as the fitted vectorisers
    weight them, the cue counts, then the meaning vector. Training uses the same code."""

    def __init__(self, blocks: Sequence[NgramBlock], cues: CueMatcher, cue_weight: float, pieces: PieceVectors,
                 semantic_weight: float) -> None:
        self._blocks = []
        offset = 0
        for block in blocks:
            self._blocks.append((TermCounter(block), block.vocabulary, block.idf, offset))
            offset += block.size
        self._cues, self._cue_weight, self._cue_offset = cues, cue_weight, offset
        self._pieces, self._semantic_weight = pieces, semantic_weight
        self._semantic_offset = offset + len(cues.slugs)
        self.size = self._semantic_offset + pieces.dimensions

    @classmethod
    def of(cls, artefact: "Artefact") -> "FeatureSpace":
        return cls(artefact.blocks, artefact.cues, artefact.cue_weight, artefact.pieces, artefact.semantic_weight)

    def terms(self) -> list[str]:
        """The n-gram behind each TF-IDF column (cue and meaning columns are not phrases: left out)."""
        names = [""] * self._cue_offset
        for _, vocabulary, _, offset in self._blocks:
            for term, j in vocabulary.items():
                names[offset + j] = term.strip()
        return names

    def vectorise(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Features of the reports as written (normalised here for the n-grams and cues; the
        meaning vector reads the original, whose accents and letter forms its tokenizer knows)."""
        data: list[float] = []
        indices: list[int] = []
        indptr = [0]
        cue_columns = np.arange(self._cue_offset, self._semantic_offset)
        meaning = self._pieces.vectors(texts) * np.float32(self._semantic_weight)
        meaning_columns = np.arange(self._semantic_offset, self.size)
        for row, text in enumerate(normalise(t) for t in texts):
            for count_terms, _, idf, offset in self._blocks:
                counts = count_terms(text)
                if not counts:
                    continue
                columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                weights = np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts))) + 1
                weights *= idf[columns]
                weights /= np.sqrt(np.dot(weights, weights))
                indices.extend((columns + offset).tolist())
                data.extend(weights.tolist())
            cues = self._cues.counts(text) * self._cue_weight
            present = cues > 0
            indices.extend(cue_columns[present].tolist())
            data.extend(cues[present].tolist())
            present = meaning[row] != 0
            indices.extend(meaning_columns[present].tolist())
            data.extend(meaning[row][present].tolist())
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
            shape=(len(texts), self.size),
        )


class Classifier:
    """Applies a trained artefact. Obtain one with `Classifier.load()`; it is cached per process."""

    _cache: dict[Path, "Classifier"] = {}
    _cache_lock = threading.Lock()

    def __init__(self, artefact: Artefact) -> None:
        self._artefact = artefact
        self._categories = artefact.categories
        self._flags = artefact.flags
        self._space = FeatureSpace.of(artefact)
        self._primary_weights = artefact.primary_weights
        self._primary_bias = artefact.primary_bias
        self._temperature = np.float32(artefact.primary_temperature)
        self._terms = self._space.terms()
        self._flag_weights = artefact.flag_weights
        self._flag_bias = artefact.flag_bias
        self._flag_slope = np.array([artefact.flag_calibration[f][0] for f in self._flags], dtype=np.float32)
        self._flag_offset = np.array([artefact.flag_calibration[f][1] for f in self._flags], dtype=np.float32)
        self._thresholds = np.array([artefact.thresholds[f] for f in self._flags], dtype=np.float32)

    @property
    def model_version(self) -> str:
        return self._artefact.version

    @property
    def artefact(self) -> Artefact:
        return self._artefact

    @classmethod
    def load(cls, model_path: Path | None = None) -> "Classifier":
        """Load the model from `model_path` (default: $PROBITY_MODEL_DIR or instance/model/).

        When no model is there yet, one is trained from the corpus and saved first, so a fresh
        clone works; concurrent processes wait for one another instead of training twice.
        """
        model_dir = Path(model_path or default_model_dir()).resolve()
        with cls._cache_lock:
            cached = cls._cache.get(model_dir)
            if cached is None:
                cached = cls(_load_or_train(model_dir))
                cls._cache[model_dir] = cached
            return cached

    def classify(self, text: str, hint: str | None = None) -> Verdict:
        return self.classify_many([text], [hint])[0]

    def classify_many(
        self, texts: Sequence[str], hints: Sequence[str | None] | None = None
    ) -> list[Verdict]:
        if hints is not None and len(hints) != len(texts):
            raise ValueError("hints must be None or have one entry per text")
        if not texts:
            return []
        reports = self._space.vectorise(texts)
        margins = reports @ self._primary_weights + self._primary_bias
        probabilities = self._apply_hints(_softmax(self._temperature * margins), hints)
        chosen = probabilities.argmax(axis=1)
        flag_margins = reports @ self._flag_weights + self._flag_bias
        flag_scores = _sigmoid(self._flag_slope * flag_margins + self._flag_offset)
        languages = self._artefact.language.identify_many(texts)
        evidence = [self._evidence(t, reports[i], chosen[i]) for i, t in enumerate(texts)]
        verdicts = []
        for i in range(len(texts)):
            verdicts.append(
                Verdict(
                    category=self._categories[chosen[i]],
                    flags=tuple(f for f, on in zip(self._flags, flag_scores[i] >= self._thresholds) if on),
                    confidence=round(float(probabilities[i, chosen[i]]), 4),
                    flag_scores={f: round(float(s), 4) for f, s in zip(self._flags, flag_scores[i])},
                    language=languages[i],
                    evidence=evidence[i],
                    model_version=self._artefact.version,
                )
            )
        return verdicts

    def _apply_hints(self, probabilities: np.ndarray, hints: Sequence[str | None] | None) -> np.ndarray:
        """The reporter's own category choice multiplies the odds of that category by `hint_odds`.

        Reporters often pick a category in fear or haste, so the hint only tips close calls.
        """
        if not hints:
            return probabilities
        for i, hint in enumerate(hints):
            if isinstance(hint, str) and hint in self._categories:
                probabilities[i, self._categories.index(hint)] *= self._artefact.hint_odds
                probabilities[i] /= probabilities[i].sum()
        return probabilities

    def _evidence(self, text: str, features: sparse.csr_matrix, category: int) -> tuple[str, ...]:
        """The clauses of `text` holding the n-grams that pushed hardest towards `category`."""
        columns = features.indices[features.indices < len(self._terms)]
        # How much each of the report's n-grams pushes towards the category rather than the average.
        rows = self._primary_weights[columns]
        weights = features.data[: len(columns)] * (rows[:, category] - rows.mean(axis=1))
        strongest = np.argsort(-weights, kind="stable")[:EVIDENCE_TERMS]
        terms = [(self._terms[columns[j]], float(weights[j])) for j in strongest if weights[j] > 0]
        terms = [(term, weight) for term, weight in terms if len(term) >= 2]
        clauses = _clauses(text)
        if not clauses or not terms:
            return ()
        folded = [normalise(c) for c in clauses]
        scores = np.array([sum(w for term, w in terms if term in c) for c in folded])
        order = np.argsort(-scores, kind="stable")[:EVIDENCE_PHRASES]
        # Clauses that only brush the category (a stray common n-gram) are not evidence.
        return tuple(clauses[j] for j in order if scores[j] > 0 and scores[j] >= 0.3 * scores[order[0]])


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def _clauses(text: str) -> list[str]:
    pieces = (p.strip() for p in _CLAUSE_BREAK.split(text))
    return [p[:EVIDENCE_MAX_CHARS] for p in pieces if len(p) >= 3]


def _load_or_train(model_dir: Path) -> Artefact:
    taxonomy = load_taxonomy()
    artefact = _current_artefact(model_dir, taxonomy)
    if artefact is not None:
        return artefact
    model_dir.mkdir(parents=True, exist_ok=True)
    with open(model_dir / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        artefact = _current_artefact(model_dir, taxonomy)  # another process may have trained meanwhile
        if artefact is None:
            from triage.train import train  # training code is only needed on a fresh install

            print(f"triage: no usable model in {model_dir}; training one from the corpus", file=sys.stderr)
            artefact = train(model_dir=model_dir, taxonomy=taxonomy)
    return artefact


def _current_artefact(model_dir: Path, taxonomy: Taxonomy) -> Artefact | None:
    """The saved artefact, unless it was trained for other categories than the taxonomy in force."""
    artefact = read_artefact(model_dir)
    if artefact is None:
        return None
    if (artefact.categories, artefact.flags) != (taxonomy.primary_slugs, taxonomy.flag_slugs):
        print(f"triage: the model in {model_dir} was trained for taxonomy {artefact.taxonomy_version}, "
              f"not {taxonomy.version}", file=sys.stderr)
        return None
    return artefact
