"""The meaning vectors: shared across languages, cached, and safe to pickle with the model."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from triage.semantic import PieceVectors, _read, cache_dir, load_piece_vectors, source_version

# One situation told in four languages, and an unrelated report in English.
BRIBE = {
    "en": "The customs officer asked me for two hundred dollars to release my container.",
    "fr": "Le douanier m'a demandé deux cents dollars pour libérer mon conteneur.",
    "ru": "Таможенник потребовал у меня двести долларов, чтобы выпустить мой контейнер.",
    "zh": "海关官员向我索要两百美元才肯放行我的集装箱。",
}
UNRELATED = "The mayor's party used the town hall buses to bring voters to its election rally."


@pytest.fixture(scope="module")
def pieces() -> PieceVectors:
    return load_piece_vectors()


def test_a_report_is_closer_to_its_translations_than_to_another_report(pieces):
    vectors = pieces.vectors([*BRIBE.values(), UNRELATED])
    assert vectors.shape == (5, pieces.dimensions)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    english, unrelated = vectors[0], vectors[-1]
    translations = vectors[1:4] @ english
    # Each translation is nearer than an English report on something else (the table is
    # deterministic for the pinned encoder, so these margins do not wobble between runs).
    assert (translations > float(unrelated @ english)).all(), translations
    assert translations.mean() > float(unrelated @ english) + 0.1


def test_an_empty_text_has_a_zero_vector(pieces):
    vectors = pieces.vectors(["", "   "])
    assert not vectors.any()
    assert pieces.vectors([]).shape == (0, pieces.dimensions)


def test_the_table_is_distilled_once_and_then_read_from_the_cache(pieces):
    cached = list(cache_dir().glob("pieces-*.npz"))
    assert cached, "the distilled table is cached on disk"
    assert load_piece_vectors() is pieces  # and in memory
    again = _read(cached[0], source_version())
    assert again is not None and np.array_equal(again.codes, pieces.codes)
    assert again.codes.dtype == np.uint8 and again.codes.shape[1] == 256


def test_a_damaged_or_foreign_cache_file_is_ignored(tmp_path: Path, pieces):
    broken = tmp_path / "pieces-broken.npz"
    broken.write_bytes(b"not a table")
    assert _read(broken, source_version()) is None
    assert _read(next(cache_dir().glob("pieces-*.npz")), "another-encoder/d256/v1") is None


def test_pickling_keeps_the_table_and_rebuilds_the_tokenizer(pieces):
    text = [BRIBE["ru"]]
    before = pieces.vectors(text)
    restored = pickle.loads(pickle.dumps(pieces))
    assert restored._processor is None
    np.testing.assert_array_equal(restored.vectors(text), before)
