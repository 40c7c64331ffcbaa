"""Measure the classifier on the held-out reports: `python -m triage.evaluate`.

Prints primary macro-F1 overall and per language, flag micro-F1 overall and per flag, the confusion
of the primary categories, the language identifier's accuracy and the held-out size. When the probe
set (triage/corpus/probe/*.jsonl, reports written apart from the corpus and never trained on) is
present, the same figures are printed for it as a check of how well the model generalises.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score

from triage.model import Classifier, Verdict
from triage.taxonomy import Taxonomy, load_taxonomy
from triage.train import (
    LabelledReport,
    TrainingParameters,
    corpus_dir,
    fit,
    model_version,
    read_corpus,
    split,
)


@dataclass(frozen=True)
class Scores:
    size: int
    primary_macro_f1: float
    per_language: dict[str, tuple[int, float]]
    flag_micro_f1: float
    per_flag: dict[str, tuple[int, float, float, float]]  # support, precision, recall, F1
    language_accuracy: float
    confusion: np.ndarray


def score(reports: Sequence[LabelledReport], verdicts: Sequence[Verdict], taxonomy: Taxonomy) -> Scores:
    truth = [r.category for r in reports]
    predicted = [v.category for v in verdicts]
    by_language: dict[str, list[int]] = defaultdict(list)
    for i, report in enumerate(reports):
        by_language[report.lang].append(i)
    per_language = {
        lang: (len(idx), _macro_f1([truth[i] for i in idx], [predicted[i] for i in idx]))
        for lang, idx in sorted(by_language.items())
    }
    flags = taxonomy.flag_slugs
    flag_truth = np.array([[f in r.flags for f in flags] for r in reports], dtype=int).reshape(-1, len(flags))
    flag_pred = np.array([[f in v.flags for f in flags] for v in verdicts], dtype=int).reshape(-1, len(flags))
    per_flag = {}
    for j, flag in enumerate(flags):
        tp = int(np.sum(flag_truth[:, j] & flag_pred[:, j]))
        precision = tp / max(1, int(flag_pred[:, j].sum()))
        recall = tp / max(1, int(flag_truth[:, j].sum()))
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_flag[flag] = (int(flag_truth[:, j].sum()), precision, recall, f1)
    return Scores(
        size=len(reports),
        primary_macro_f1=_macro_f1(truth, predicted),
        per_language=per_language,
        flag_micro_f1=float(f1_score(flag_truth, flag_pred, average="micro", zero_division=0)),
        per_flag=per_flag,
        language_accuracy=float(np.mean([v.language == r.lang for r, v in zip(reports, verdicts)])),
        confusion=confusion_matrix(truth, predicted, labels=list(taxonomy.primary_slugs)),
    )


def _macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    return float(f1_score(truth, predicted, average="macro", zero_division=0))


def render(title: str, scores: Scores, taxonomy: Taxonomy) -> str:
    lines = [f"== {title}: {scores.size} reports",
             f"primary macro-F1  {scores.primary_macro_f1:.3f}",
             "  per language:  " + "  ".join(
                 f"{lang} {f1:.3f} (n={n})" for lang, (n, f1) in scores.per_language.items()),
             f"flag micro-F1     {scores.flag_micro_f1:.3f}"]
    for flag, (support, p, r, f1) in scores.per_flag.items():
        lines.append(f"  {flag:<18} F1 {f1:.3f}  precision {p:.3f}  recall {r:.3f}  (n={support})")
    lines.append(f"language identified correctly: {scores.language_accuracy:.3f}")
    slugs = taxonomy.primary_slugs
    short = [_abbreviation(s) for s in slugs]
    lines.append("confusion (rows: true category, columns: predicted)")
    lines.append(" " * 26 + " ".join(f"{s:>5}" for s in short))
    for slug, row in zip(slugs, scores.confusion):
        lines.append(f"  {slug:<24}" + " ".join(f"{int(n):>5}" for n in row))
    return "\n".join(lines)


def _abbreviation(slug: str) -> str:
    return "".join(part[0] for part in slug.split("-")).upper()[:5]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m triage.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="corpus folder (default $PROBITY_CORPUS_DIR or triage/corpus)")
    parser.add_argument("--model-dir", type=Path,
                        help="model to evaluate (default $PROBITY_MODEL_DIR or instance/model)")
    parser.add_argument("--fresh", action="store_true",
                        help="fit a model in memory on the current training split instead of loading one")
    args = parser.parse_args(argv)
    taxonomy = load_taxonomy()
    source = args.corpus or corpus_dir()
    training, held_out = split(read_corpus(source, taxonomy))
    if args.fresh:
        classifier = Classifier(fit(training, taxonomy, TrainingParameters()))
    else:
        classifier = Classifier.load(args.model_dir)
        if classifier.model_version != model_version(training, TrainingParameters(), taxonomy):
            print("triage.evaluate: the saved model was not trained on the current training split; "
                  "run `python -m triage.train` (or pass --fresh) for current figures", file=sys.stderr)
    print(f"model {classifier.model_version}; training split {len(training)} reports; held out {len(held_out)}")
    verdicts = classifier.classify_many([r.text for r in held_out])
    print(render("held-out split", score(held_out, verdicts, taxonomy), taxonomy))
    probe_dir = source / "probe"
    if probe_dir.is_dir() and any(probe_dir.glob("*.jsonl")):
        probe = read_corpus(probe_dir, taxonomy)
        print(render("probe set (written apart, never trained on)",
                     score(probe, classifier.classify_many([r.text for r in probe]), taxonomy), taxonomy))
    return 0


if __name__ == "__main__":
    sys.exit(main())
