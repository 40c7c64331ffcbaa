"""The taxonomy, the classifier, its command line and its training, against the real corpus."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from triage.language import normalise
from triage.model import Classifier, FeatureSpace
from triage.ngrams import NgramBlock
from triage.taxonomy import TaxonomyError, load_taxonomy
from triage.train import (
    TrainingParameters, build_features, corpus_dir, fit, is_held_out, model_version, read_corpus, split, train)

REPO = Path(__file__).resolve().parents[2]
TAXONOMY_FILE = REPO / "triage" / "taxonomy.json"


@pytest.fixture(scope="session")
def taxonomy():
    return load_taxonomy()


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    # The default model, trained from the corpus on first use; the CLI tests use the same one.
    return Classifier.load()


@pytest.fixture(scope="session")
def training_sample(taxonomy):
    """A small, fixed slice of the training split: enough to train quickly, twice."""
    training, _ = split(read_corpus(corpus_dir(), taxonomy))
    return sorted(training, key=lambda r: r.id)[::7]


# --- taxonomy -------------------------------------------------------------------------------

def test_taxonomy_has_the_contract_slugs_and_every_label(taxonomy):
    assert taxonomy.primary_slugs == (
        "general-principles", "conflict-of-interest", "disclosure-of-assets", "gifts-or-favours",
        "confidential-information", "political-activity", "other")
    assert taxonomy.flag_slugs == ("money-laundering", "organized-crime", "trafficking", "terrorism", "document-fraud")
    for slug in (*taxonomy.primary_slugs, *taxonomy.flag_slugs):
        for lang in ("ar", "zh", "en", "fr", "ru", "es"):
            assert taxonomy.name(slug, lang).strip()
            assert taxonomy.description(slug, lang).endswith((".", "。"))


def test_labels_fall_back_to_the_base_language_then_to_english(taxonomy):
    assert taxonomy.name("gifts-or-favours", "fr-CA") == taxonomy.name("gifts-or-favours", "fr")
    assert taxonomy.name("gifts-or-favours", "de") == taxonomy.name("gifts-or-favours", "en")
    assert taxonomy.description("other", None) == taxonomy.description("other", "en")
    with pytest.raises(KeyError):
        taxonomy.name("no-such-category", "en")


def _write_variant(tmp_path: Path, change) -> Path:
    raw = json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, message", [
    (lambda raw: raw["primary"][3]["labels"].pop("zh"), "gifts-or-favours.*zh"),
    (lambda raw: raw["flags"].append(dict(raw["primary"][0])), "repeated.*general-principles"),
    (lambda raw: raw["primary"][0].update(slug="General Principles"), "lower-case"),
    (lambda raw: raw["primary"][1]["labels"]["en"].update(name=""), "name"),
    (lambda raw: raw.update(default_language="de"), "default_language"),
    (lambda raw: raw["flags"][0].update(cues={"en": "launder"}), "cues"),
])
def test_a_broken_taxonomy_is_rejected_with_a_clear_error(tmp_path, change, message):
    with pytest.raises(TaxonomyError, match=message):
        load_taxonomy(_write_variant(tmp_path, change))


def test_a_file_that_is_not_json_is_rejected(tmp_path):
    path = tmp_path / "taxonomy.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="not valid UTF-8 JSON"):
        load_taxonomy(path)


def test_no_triage_code_spells_out_a_slug(taxonomy):
    sources = [*(REPO / "triage").glob("*.py"), REPO / "bench" / "classify_throughput.py"]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for slug in (*taxonomy.primary_slugs, *taxonomy.flag_slugs):
            assert not re.search(rf"[\"']{re.escape(slug)}[\"']", text), f"{path.name} hard-codes {slug}"


# --- classification -------------------------------------------------------------------------

def test_verdicts_are_well_formed(classifier, taxonomy):
    texts = ["The mayor's office gave the contract to his cousin.", "test", "测试", "?!", "x" * 5000]
    for text, verdict in zip(texts, classifier.classify_many(texts)):
        assert taxonomy.is_primary(verdict.category)
        assert 0.0 <= verdict.confidence <= 1.0
        assert set(verdict.flags) <= set(taxonomy.flag_slugs)
        assert set(verdict.flag_scores) == set(taxonomy.flag_slugs)
        assert all(0.0 <= s <= 1.0 for s in verdict.flag_scores.values())
        assert verdict.model_version == classifier.model_version
        assert all(phrase in text for phrase in verdict.evidence)
    assert classifier.classify_many([]) == []


OBVIOUS = [
    ("en", "The traffic police officer demanded a bribe of 50 dollars, cash in his hand, or he would take "
           "my licence.", "gifts-or-favours"),
    ("en", "hello this is just a test message, please ignore", "other"),
    ("fr", "Le maire a forcé tous les employés municipaux à aller au meeting électoral de son parti et à "
           "voter pour son candidat.", "political-activity"),
    ("es", "El ministro no incluyó en su declaración jurada de bienes las tres casas y la finca a nombre "
           "de su esposa.", "disclosure-of-assets"),
    ("ru", "Сотрудник полиции слил преступникам секретные материалы дела и адреса свидетелей.",
     "confidential-information"),
    ("ar", "موظف الجمارك طلب مني رشوة مئة دولار حتى يفرج عن البضاعة.", "gifts-or-favours"),
    ("zh", "局长把工程合同都交给了他小舅子开的公司，没有招标。", "conflict-of-interest"),
]


@pytest.mark.parametrize("lang, text, expected", OBVIOUS, ids=[f"{o[0]}-{o[2]}" for o in OBVIOUS])
def test_obvious_reports_get_the_right_category_and_language(classifier, lang, text, expected):
    verdict = classifier.classify(text)
    assert verdict.category == expected
    if len(text) > 20:
        assert verdict.language == lang


def test_obvious_crime_flags_are_raised(classifier):
    verdict = classifier.classify(
        "Customs officers at the port take money from a drug cartel to let containers of cocaine through, "
        "and the cash is laundered through shell companies and real estate.")
    assert {"trafficking", "money-laundering"} <= set(verdict.flags)


def test_the_reporters_hint_is_only_a_weak_prior(classifier, taxonomy):
    clear = "The customs officer asked me for a bribe of 300 dollars in cash to release my goods."
    base = classifier.classify(clear)
    assert classifier.classify(clear, "political-activity").category == base.category
    assert classifier.classify(clear, "no-such-category") == base
    assert classifier.classify(clear, None) == base

    pool = [r.text for r in read_corpus(corpus_dir() / "probe", taxonomy)]
    flips = 0
    for text, verdict in zip(pool, classifier.classify_many(pool)):
        for hint in taxonomy.primary_slugs:
            hinted = classifier.classify(text, hint)
            assert hinted.category in (verdict.category, hint)
            if hinted.category != verdict.category:
                flips += 1
                # Doubling the odds can only overturn a call the model itself was unsure of.
                assert verdict.confidence < 2 / 3 + 1e-3
    assert flips > 0, "the hint never changed anything"


def test_the_run_time_features_equal_scikit_learns(classifier, training_sample):
    """The worker's own n-gram analysers and TF-IDF arithmetic give exactly what scikit-learn's
    fitted vectorisers give, on real reports in every language and on edge cases."""
    texts = [r.text for r in training_sample[:300]]
    texts += ["A bribe? Yes, 500 dollars.", "村长收了红包", "رشوة في الجمارك", "", "a", "  x  y\t\nz  ", "é"]
    folded = [normalise(t) for t in texts]
    fitted = build_features(TrainingParameters()).fit(folded)
    artefact = classifier.artefact
    blocks = tuple(NgramBlock.from_vectoriser(v) for _, v in fitted.transformer_list)
    for block, (_, vectoriser) in zip(blocks, fitted.transformer_list):
        analyse = vectoriser.build_analyzer()
        for text in folded:
            assert sorted(block.analyse(text)) == sorted(analyse(text)), text
    space = FeatureSpace(blocks, artefact.cues, artefact.cue_weight, artefact.pieces, artefact.semantic_weight)
    cue_block = np.vstack([artefact.cues.counts(t) * artefact.cue_weight for t in folded])
    meaning = artefact.pieces.vectors(texts) * artefact.semantic_weight
    reference = sparse.hstack([fitted.transform(folded), cue_block, meaning]).toarray()
    np.testing.assert_allclose(space.vectorise(texts).toarray(), reference, rtol=1e-5, atol=1e-6)


def test_loading_the_model_and_classifying_never_imports_scikit_learn(classifier):
    """scikit-learn costs a worker about 65 MB; it is a training dependency only."""
    code = ("import sys; from triage.model import Classifier; "
            "Classifier.load().classify('The clerk wants 50 dollars.'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# --- command line ---------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "triage.classify", *args], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_cli_answers_every_line_in_order_and_survives_bad_lines(classifier, taxonomy):
    lines = [
        json.dumps({"id": "a", "text": "The inspector wants an envelope before he signs the permit."}),
        "this is not json",
        json.dumps({"id": 7, "text": "Le député n'a pas déclaré sa villa."}),
        json.dumps({"id": "no-text"}),
        json.dumps(["a", "list"]),
        "",
        json.dumps({"id": None, "text": "测试"}),
        json.dumps({"id": "bad-hint", "text": "hello", "hint": "nonsense"}),
    ]
    process = _cli()
    out, err = process.communicate("\n".join(lines).encode() + b"\n", timeout=300)
    assert process.returncode == 0, err.decode()
    results = [json.loads(line) for line in out.decode().splitlines()]
    assert len(results) == len(lines)
    assert [r["id"] for r in results] == ["a", None, 7, "no-text", None, None, None, "bad-hint"]
    assert [("error" in r) for r in results] == [False, True, False, True, True, True, False, False]
    for r in results:
        if "error" not in r:
            assert set(r) == {"id", "category", "flags", "confidence"}
            assert taxonomy.is_primary(r["category"]) and 0 <= r["confidence"] <= 1


def test_cli_flushes_each_answer_before_the_next_line_arrives():
    process = _cli()
    try:
        assert process.stdin and process.stdout
        for n in range(2):
            process.stdin.write(json.dumps({"id": n, "text": "a bribe was paid"}).encode() + b"\n")
            process.stdin.flush()
            assert json.loads(process.stdout.readline())["id"] == n
    finally:
        process.kill()
        process.wait()


def test_cli_uses_the_same_model_as_the_library(classifier):
    process = _cli("--details")
    text = "The minister's son got the road contract without a tender."
    out, _ = process.communicate(json.dumps({"id": 1, "text": text}).encode(), timeout=300)
    result = json.loads(out)
    verdict = classifier.classify(text)
    assert (result["model_version"], result["category"], result["confidence"]) == (
        verdict.model_version, verdict.category, verdict.confidence)


# --- training -------------------------------------------------------------------------------

def test_the_held_out_split_is_stable_and_about_a_fifth(taxonomy):
    reports = read_corpus(corpus_dir(), taxonomy)
    training, held_out = split(reports)
    assert 0.15 < len(held_out) / len(reports) < 0.25
    assert all(is_held_out(r.id) for r in held_out) and not any(is_held_out(r.id) for r in training)
    assert is_held_out("en-0001") == is_held_out("en-0001")


def test_training_is_reproducible(tmp_path, taxonomy, training_sample):
    first = fit(training_sample, taxonomy)
    second = fit(training_sample, taxonomy)
    assert first.version == second.version
    texts = [r.text for r in training_sample[:40]]
    a, b = Classifier(first).classify_many(texts), Classifier(second).classify_many(texts)
    assert a == b
    changed = list(training_sample)
    changed[0] = type(changed[0])(changed[0].id, changed[0].lang, changed[0].text + " !", changed[0].category,
                                  changed[0].flags)
    assert fit(changed, taxonomy).version != first.version


def test_training_uses_only_the_training_split_and_writes_a_loadable_model(tmp_path, taxonomy, training_sample):
    held_out = sorted((r for r in read_corpus(corpus_dir(), taxonomy) if is_held_out(r.id)), key=lambda r: r.id)[:50]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with open(corpus / "sample.jsonl", "w", encoding="utf-8") as out:
        for r in (*training_sample, *held_out):
            out.write(json.dumps({"id": r.id, "lang": r.lang, "text": r.text, "category": r.category,
                                  "flags": list(r.flags)}, ensure_ascii=False) + "\n")
    artefact = train(corpus, tmp_path / "model", taxonomy, quiet=True)
    # The version is a hash of exactly the reports the model was fitted on.
    assert artefact.version == model_version(training_sample, TrainingParameters(), taxonomy)
    assert artefact.summary["reports"] == len(training_sample)
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert manifest["model_version"] == artefact.version and manifest["held_out_reports"] == len(held_out)
    assert Classifier.load(tmp_path / "model").model_version == artefact.version
