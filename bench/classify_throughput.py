"""Classification throughput in one process: `python bench/classify_throughput.py`.

Prints model load time, resident memory after loading, and reports per second on ~100-word
reports: one at a time on words the classifier has not met yet, one at a time again (best of
three), and in batches; each beside a baseline measured in the same run, the bare TF-IDF
vectorisers (scikit-learn's own transform, fitted as training fits them) on the same reports.
Figures are printed, not asserted: they depend on the machine.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from triage.language import normalise  # noqa: E402
from triage.model import Classifier, default_model_dir  # noqa: E402
from triage.taxonomy import load_taxonomy  # noqa: E402
from triage.train import TrainingParameters, build_features, corpus_dir, read_corpus, split  # noqa: E402

WORDS_PER_REPORT = 100
CHINESE_CHARACTERS_PER_WORD = 1.6  # Chinese is written without spaces; count characters instead


def rss_mib() -> float:
    """Current resident set size of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def hundred_word_reports(count: int) -> list[str]:
    """Held-out corpus reports, joined per language until each is about 100 words long."""
    taxonomy = load_taxonomy()
    _, held_out = split(read_corpus(corpus_dir(), taxonomy))
    by_language: dict[str, list[str]] = {}
    for report in held_out:
        by_language.setdefault(report.lang, []).append(report.text)
    reports: list[str] = []
    while len(reports) < count:
        for lang, texts in sorted(by_language.items()):
            piece, words = [], 0
            while words < WORDS_PER_REPORT:
                text = texts[(len(reports) * 7 + len(piece)) % len(texts)]
                piece.append(text)
                words += len(text) / CHINESE_CHARACTERS_PER_WORD if lang == "zh" else len(text.split())
            reports.append(" ".join(piece))
    return reports[:count]


def rate(work: Callable[[], object], items: int, repeat: int = 3) -> tuple[float, float]:
    """Items per wall-clock second and per CPU second, best of `repeat` runs.

    On a busy machine the wall-clock figure understates what a dedicated worker achieves; the
    CPU-time figure is what one core delivers.
    """
    wall = cpu = float("inf")
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        work()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return items / wall, items / cpu


def batched(texts: Sequence[str], size: int) -> list[list[str]]:
    return [list(texts[i : i + size]) for i in range(0, len(texts), size)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=600)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--model-dir", type=Path, default=None)
    args = parser.parse_args()

    before = rss_mib()
    started = time.perf_counter()
    classifier = Classifier.load(args.model_dir)
    load_seconds = time.perf_counter() - started
    after = rss_mib()
    reports = hundred_word_reports(args.reports)
    normalised = [normalise(t) for t in reports]
    training, _ = split(read_corpus(corpus_dir(), load_taxonomy()))
    vectorisers = build_features(TrainingParameters()).fit([normalise(r.text) for r in training])
    # A fresh classifier has not seen these reports' words yet: its first pass is what a worker
    # meets on new reports. The best-of-three figures below reuse the words it then remembers.
    cold_classifier = Classifier(classifier.artefact)
    cold = rate(lambda: [cold_classifier.classify(t) for t in reports], len(reports), repeat=1)
    classifier.classify_many(reports[:10])  # warm caches before timing

    single = rate(lambda: [classifier.classify(t) for t in reports], len(reports))
    many = rate(lambda: [classifier.classify_many(b) for b in batched(reports, args.batch)], len(reports))
    base_single = rate(lambda: [vectorisers.transform([t]) for t in normalised], len(reports))
    base_many = rate(lambda: [vectorisers.transform(b) for b in batched(normalised, args.batch)], len(reports))

    words = sum(len(t.split()) for t in reports) / len(reports)
    print(f"model {classifier.model_version} from {args.model_dir or default_model_dir()}")
    print(f"load time: {load_seconds:.2f} s; RSS {before:.0f} MiB before loading, {after:.0f} MiB after")
    print(f"{len(reports)} reports, {words:.0f} space-separated words on average (Chinese counted by characters)")
    for label, ours, base in (("first pass", cold, base_single), ("single", single, base_single),
                              (f"batch {args.batch}", many, base_many)):
        print(f"{label:<10} {ours[0]:7.1f} reports/s wall, {ours[1]:7.1f} per CPU-second;  baseline (bare "
              f"vectorisers) {base[0]:7.1f} / {base[1]:7.1f};  ratio {ours[1] / base[1]:.2f}")
    print(f"RSS at the end: {rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
