"""Train the report classifier from the labelled corpus: `python -m triage.train`.

Training is reproducible: the held-out split is a stable hash of each report id, every random
choice is seeded, and the model version is a hash of the training reports, the parameters, the
taxonomy and this module's `TRAINING_CODE_VERSION`, so the same corpus always yields the same
version. Only the training split is ever used here, including for tuning the flag thresholds.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC
from scipy.optimize import minimize_scalar
from sklearn.pipeline import FeatureUnion

from triage.language import LanguageIdentifier, normalise
from triage.model import MANIFEST_NAME, Artefact, CueMatcher, FeatureSpace, default_model_dir, save_artefact
from triage.ngrams import NgramBlock
from triage.semantic import load_piece_vectors, source_version
from triage.taxonomy import Taxonomy, load_taxonomy

# Bump when a change to this module or to triage.language alters what training produces.
TRAINING_CODE_VERSION = "2"
DEFAULT_CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
CORPUS_DIR_VARIABLE = "PROBITY_CORPUS_DIR"
HELD_OUT_PERCENT = 20
SEED = 1996


class CorpusError(ValueError):
    """A corpus file is unreadable or a report in it is malformed or labelled outside the taxonomy."""


@dataclass(frozen=True)
class LabelledReport:
    id: str
    lang: str
    text: str
    category: str
    flags: tuple[str, ...]


@dataclass(frozen=True)
class TrainingParameters:
    char_ngrams: tuple[int, int] = (1, 4)
    word_ngrams: tuple[int, int] = (1, 2)
    min_df: int = 2
    primary_c: float = 1.0
    flag_c: float = 1.0
    folds: int = 5
    cue_weight: float = 0.5
    # The meaning vector has unit length, like each TF-IDF block; doubling it let it count about as
    # much as the n-grams in cross-validation inside the training split.
    semantic_weight: float = 2.0
    hint_odds: float = 2.0


def corpus_dir() -> Path:
    return Path(os.environ.get(CORPUS_DIR_VARIABLE) or DEFAULT_CORPUS_DIR)


def read_corpus(directory: Path, taxonomy: Taxonomy) -> list[LabelledReport]:
    """Every report in `directory`/*.jsonl (not in sub-folders), checked against the taxonomy."""
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise CorpusError(f"{directory}: no *.jsonl corpus files")
    reports: list[LabelledReport] = []
    seen: set[str] = set()
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            report = _parse_report(line, f"{path.name}:{number}", taxonomy)
            if report.id in seen:
                raise CorpusError(f"{path.name}:{number}: duplicate report id {report.id!r}")
            seen.add(report.id)
            reports.append(report)
    return reports


def _parse_report(line: str, where: str, taxonomy: Taxonomy) -> LabelledReport:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{where}: not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: a report must be a JSON object")
    for key in ("id", "lang", "text", "category"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise CorpusError(f"{where}: '{key}' must be a non-empty string")
    if not taxonomy.is_primary(raw["category"]):
        raise CorpusError(f"{where}: category {raw['category']!r} is not in taxonomy {taxonomy.version}")
    flags = raw.get("flags", [])
    if not isinstance(flags, list) or not all(taxonomy.is_flag(f) for f in flags):
        raise CorpusError(f"{where}: flags {flags!r} must be a list of the taxonomy's flags")
    return LabelledReport(raw["id"], raw["lang"], raw["text"], raw["category"], tuple(sorted(set(flags))))


def is_held_out(report_id: str) -> bool:
    """Stable across runs, machines and corpus growth: a report never changes side."""
    digest = hashlib.sha256(report_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 100 < HELD_OUT_PERCENT


def split(reports: Iterable[LabelledReport]) -> tuple[list[LabelledReport], list[LabelledReport]]:
    training, held_out = [], []
    for report in reports:
        (held_out if is_held_out(report.id) else training).append(report)
    return training, held_out


def model_version(reports: Sequence[LabelledReport], parameters: TrainingParameters, taxonomy: Taxonomy) -> str:
    digest = hashlib.sha256()
    header = {
        "code": TRAINING_CODE_VERSION,
        "sklearn": ".".join(sklearn.__version__.split(".")[:2]),
        "parameters": asdict(parameters),
        "encoder": source_version(),
        "taxonomy": [taxonomy.version, {c.slug: dict(c.cues) for c in (*taxonomy.primary, *taxonomy.flags)}],
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    for r in sorted(reports, key=lambda r: r.id):
        digest.update(json.dumps([r.id, r.lang, r.text, r.category, r.flags], ensure_ascii=False).encode())
    return digest.hexdigest()[:12]


class Progress:
    """Numbered steps with counts and elapsed time, on stderr so stdout stays clean."""

    def __init__(self, steps: int, quiet: bool = False) -> None:
        self.steps, self.quiet, self.step = steps, quiet, 0
        self.started = self.last = time.perf_counter()

    def detail(self, message: str) -> None:
        """A progress line inside the current step."""
        if not self.quiet:
            print(f"      {message}  ({time.perf_counter() - self.started:.1f}s)", file=sys.stderr, flush=True)

    def __call__(self, message: str) -> None:
        self.step += 1
        now = time.perf_counter()
        if not self.quiet:
            print(f"[{self.step}/{self.steps}] {message}  (+{now - self.last:.1f}s, {now - self.started:.1f}s)",
                  file=sys.stderr, flush=True)
        self.last = now


def build_features(parameters: TrainingParameters) -> FeatureUnion:
    common = dict(lowercase=False, sublinear_tf=True, min_df=parameters.min_df, dtype=np.float32)
    return FeatureUnion([
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=parameters.char_ngrams, **common)),
        ("words", TfidfVectorizer(analyzer="word", ngram_range=parameters.word_ngrams,
                                  token_pattern=r"(?u)\b\w+\b", **common)),
    ])


def fit(
    reports: Sequence[LabelledReport],
    taxonomy: Taxonomy,
    parameters: TrainingParameters = TrainingParameters(),
    progress: Progress | None = None,
) -> Artefact:
    """Fit every part of the model on `reports` (which must be training reports only).

    Linear SVMs separate the classes; their margins become probabilities through a softmax
    temperature (primary) and Platt scaling (flags), both fitted on out-of-fold margins from
    cross-validation inside `reports`, where the flag thresholds are tuned too.
    """
    note = progress or Progress(5, quiet=True)
    categories, flags = taxonomy.primary_slugs, taxonomy.flag_slugs
    missing = [c for c in categories if not any(r.category == c for r in reports)]
    if missing:
        raise CorpusError(f"no training report for categories {missing}; the model cannot learn them")
    pieces = load_piece_vectors(progress=note.detail)
    features = build_features(parameters).fit([normalise(r.text) for r in reports])
    blocks = tuple(NgramBlock.from_vectoriser(v) for _, v in features.transformer_list)
    cues = CueMatcher.from_taxonomy(taxonomy)
    space = FeatureSpace(blocks, cues, parameters.cue_weight, pieces, parameters.semantic_weight)
    matrix = space.vectorise([r.text for r in reports])
    note(f"vectorised {len(reports)} reports into {matrix.shape[1]:,} features "
         f"({pieces.dimensions} of them multilingual meaning)")

    target = np.array([categories.index(r.category) for r in reports])
    folds = list(StratifiedKFold(parameters.folds, shuffle=True, random_state=SEED).split(matrix, target))
    primary = _svm(parameters.primary_c).fit(matrix, target)
    margins = _out_of_fold(matrix, target, folds, parameters.primary_c)
    temperature = _fit_temperature(margins, target)
    note(f"fitted the primary classifier on {len(categories)} categories "
         f"(out-of-fold accuracy {np.mean(margins.argmax(axis=1) == target):.3f})")

    flag_models, calibration, thresholds, tuning = {}, {}, {}, {}
    for flag in flags:
        labels = np.array([flag in r.flags for r in reports], dtype=int)
        if labels.sum() < parameters.folds or labels.sum() == len(labels):
            raise CorpusError(f"flag {flag!r} needs at least {parameters.folds} positive and negative examples")
        flag_models[flag] = _svm(parameters.flag_c, balanced=True).fit(matrix, labels)
        flag_margins = _out_of_fold(matrix, labels, folds, parameters.flag_c, balanced=True)[:, 0]
        calibration[flag] = _fit_platt(flag_margins, labels)
        thresholds[flag], tuning[flag] = _tune_threshold(_platt(flag_margins, *calibration[flag]), labels)
    note(f"fitted {len(flags)} flag classifiers; calibrated and tuned thresholds by {parameters.folds}-fold CV")

    language = LanguageIdentifier().fit([r.text for r in reports], [r.lang for r in reports])
    note(f"fitted the language identifier on {len(set(r.lang for r in reports))} languages")

    summary = {
        "reports": len(reports),
        "features": int(matrix.shape[1]),
        "per_language": dict(sorted(Counter(r.lang for r in reports).items())),
        "per_category": dict(Counter(r.category for r in reports)),
        "per_flag": {f: sum(f in r.flags for r in reports) for f in flags},
        "primary_temperature": round(temperature, 4),
        "flag_tuning": tuning,
        "parameters": asdict(parameters),
    }
    return Artefact(
        version=model_version(reports, parameters, taxonomy),
        taxonomy_version=taxonomy.version,
        categories=categories,
        flags=flags,
        blocks=blocks,
        cues=cues,
        cue_weight=parameters.cue_weight,
        pieces=pieces,
        semantic_weight=parameters.semantic_weight,
        primary_weights=np.ascontiguousarray(primary.coef_.T, dtype=np.float32),
        primary_bias=primary.intercept_.astype(np.float32),
        primary_temperature=temperature,
        flag_weights=np.ascontiguousarray(
            np.vstack([flag_models[f].coef_ for f in flags]).T if flags else np.zeros((matrix.shape[1], 0)),
            dtype=np.float32),
        flag_bias=np.array([flag_models[f].intercept_[0] for f in flags], dtype=np.float32),
        flag_calibration=calibration,
        thresholds=thresholds,
        language=language,
        hint_odds=parameters.hint_odds,
        summary=summary,
    )


def _svm(c: float, balanced: bool = False) -> LinearSVC:
    return LinearSVC(C=c, class_weight="balanced" if balanced else None, random_state=SEED, max_iter=5000)


def _out_of_fold(matrix, target: np.ndarray, folds, c: float, balanced: bool = False) -> np.ndarray:
    """Margins for every report from a model that never saw it (one column per class; one for binary)."""
    classes = np.unique(target)
    margins = np.zeros((len(target), 1 if len(classes) == 2 else len(classes)))
    for train_idx, test_idx in folds:
        model = _svm(c, balanced).fit(matrix[train_idx], target[train_idx])
        decision = model.decision_function(matrix[test_idx])
        margins[test_idx] = decision.reshape(len(test_idx), -1)
    return margins


def _fit_temperature(margins: np.ndarray, target: np.ndarray) -> float:
    """The scale that turns margins into the best-calibrated softmax probabilities (least log-loss)."""
    def log_loss(scale: float) -> float:
        logits = margins * scale
        logits -= logits.max(axis=1, keepdims=True)
        log_probabilities = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return -float(np.mean(log_probabilities[np.arange(len(target)), target]))

    return float(minimize_scalar(log_loss, bounds=(0.05, 50.0), method="bounded").x)


def _fit_platt(margins: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    model = LogisticRegression(C=1e4).fit(margins.reshape(-1, 1), labels)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def _platt(margins: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(slope * margins + intercept)))


def _tune_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, dict[str, float]]:
    """The probability threshold with the best out-of-fold F1."""
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3)
    f1 = np.array([_f1(labels, scores >= t) for t in grid])
    # Among thresholds within a hair of the best, take the middle one: the peak itself is noisy.
    near_best = grid[f1 >= f1.max() - 0.005]
    threshold = float(near_best[len(near_best) // 2])
    return threshold, {"positives": int(labels.sum()), "cv_f1": round(float(f1.max()), 4), "threshold": threshold}


def _f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    tp = int(np.sum(truth & predicted))
    denominator = int(truth.sum()) + int(predicted.sum())
    return 2 * tp / denominator if denominator else 1.0


def train(
    corpus: Path | None = None,
    model_dir: Path | None = None,
    taxonomy: Taxonomy | None = None,
    parameters: TrainingParameters = TrainingParameters(),
    quiet: bool = False,
) -> Artefact:
    """Read the corpus, fit on the training split only, save the artefact and its manifest."""
    progress = Progress(6, quiet=quiet)
    taxonomy = taxonomy or load_taxonomy()
    source = Path(corpus or corpus_dir())
    reports = read_corpus(source, taxonomy)
    training, held_out = split(reports)
    progress(f"read {len(reports)} reports from {source}: {len(training)} for training, "
             f"{len(held_out)} held out and never used here")
    artefact = fit(training, taxonomy, parameters, progress)
    destination = Path(model_dir or default_model_dir())
    save_artefact(artefact, destination)
    write_manifest(artefact, destination / MANIFEST_NAME, source, len(held_out))
    progress(f"saved model {artefact.version} to {destination}")
    return artefact


def write_manifest(artefact: Artefact, path: Path, source: Path, held_out: int) -> None:
    manifest = {
        "model_version": artefact.version,
        "taxonomy_version": artefact.taxonomy_version,
        "corpus": str(source),
        "held_out_reports": held_out,
        "thresholds": artefact.thresholds,
        **artefact.summary,
    }
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m triage.train", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path,
                        help=f"corpus folder (default ${CORPUS_DIR_VARIABLE} or {DEFAULT_CORPUS_DIR})")
    parser.add_argument("--model-dir", type=Path, help="where to save (default $PROBITY_MODEL_DIR or instance/model)")
    parser.add_argument("--taxonomy", type=Path, help="taxonomy file (default $PROBITY_TAXONOMY or the bundled one)")
    args = parser.parse_args(argv)
    try:
        artefact = train(args.corpus, args.model_dir, load_taxonomy(args.taxonomy))
    except (CorpusError, ValueError) as exc:
        print(f"triage.train: {exc}", file=sys.stderr)
        return 1
    print(artefact.version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
