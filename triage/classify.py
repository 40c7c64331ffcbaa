"""Classify reports from the command line: `python -m triage.classify < reports.jsonl`.

Reads one JSON object per line, {"id": ..., "text": "..."} (optionally "hint": "<category slug>"),
and writes exactly one line per input, in order, flushed as it goes:
{"id": ..., "category": "<slug>", "flags": [...], "confidence": <0..1>}. A line that cannot be
classified gets {"id": <its id or null>, "error": "<why>"} instead. Uses the same model as the
triage worker. Progress and diagnostics go to stderr only.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Sequence

from triage.model import Classifier


class BadLine(ValueError):
    def __init__(self, message: str, report_id: Any = None) -> None:
        super().__init__(message)
        self.report_id = report_id


def parse_line(raw: bytes) -> tuple[Any, str, str | None]:
    """(id, text, hint) of one input line, or BadLine naming what is wrong."""
    try:
        item = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadLine("line is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadLine(f"line is not JSON: {exc.msg}") from None
    if not isinstance(item, dict):
        raise BadLine("line must be a JSON object")
    report_id = item.get("id")
    if isinstance(report_id, (dict, list)):
        raise BadLine("'id' must be a string, a number or null")
    text = item.get("text")
    if not isinstance(text, str):
        raise BadLine("'text' must be a string", report_id)
    if not text.strip():
        raise BadLine("'text' is empty", report_id)
    hint = item.get("hint")
    return report_id, text, hint if isinstance(hint, str) else None


def results(lines: Iterator[bytes], classifier: Classifier, details: bool = False) -> Iterator[dict[str, Any]]:
    for raw in lines:
        try:
            report_id, text, hint = parse_line(raw)
        except BadLine as exc:
            yield {"id": exc.report_id, "error": str(exc)}
            continue
        try:
            verdict = classifier.classify(text, hint)
        except Exception as exc:  # one report must never stop the others
            yield {"id": report_id, "error": f"classification failed: {type(exc).__name__}"}
            continue
        out: dict[str, Any] = {
            "id": report_id,
            "category": verdict.category,
            "flags": list(verdict.flags),
            "confidence": verdict.confidence,
        }
        if details:
            out.update(language=verdict.language, flag_scores=verdict.flag_scores,
                       model_version=verdict.model_version)
        yield out


def _input_lines(stream: BinaryIO) -> Iterator[bytes]:
    for line in stream:
        yield line.rstrip(b"\r\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m triage.classify", description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, help="model folder (default $PROBITY_MODEL_DIR or instance/model)")
    parser.add_argument("--details", action="store_true",
                        help="also print language, flag scores and model version (never the evidence)")
    args = parser.parse_args(argv)
    classifier = Classifier.load(args.model_dir)
    print(f"triage.classify: model {classifier.model_version} ready", file=sys.stderr, flush=True)
    out = sys.stdout.buffer
    count = 0
    try:
        for result in results(_input_lines(sys.stdin.buffer), classifier, args.details):
            out.write(json.dumps(result, ensure_ascii=False).encode("utf-8") + b"\n")
            out.flush()
            count += 1
    except BrokenPipeError:
        return 1
    print(f"triage.classify: {count} lines classified", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
