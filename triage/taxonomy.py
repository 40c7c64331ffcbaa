"""The report taxonomy, read from data so an organisation can swap in its own code of conduct.

`taxonomy.json` beside this module holds the primary categories (exactly one per report) and the
crime flags (zero or more), each with its article references, a quote of the source text, and a
name and plain-language description per language. Nothing else in the code base names a slug;
everything asks a `Taxonomy`.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

DEFAULT_PATH = Path(__file__).with_name("taxonomy.json")
PATH_VARIABLE = "PROBITY_TAXONOMY"

_SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class TaxonomyError(ValueError):
    """The taxonomy file is missing, unreadable or does not describe a usable taxonomy."""


@dataclass(frozen=True)
class Label:
    """What a reporter reads about a category in one language."""

    name: str
    description: str


@dataclass(frozen=True)
class Category:
    """A primary category or a flag: its slug, where it comes from, and its labels per language."""

    slug: str
    references: tuple[str, ...]
    quote: str
    labels: Mapping[str, Label]
    # Words and word beginnings that often signal this category, per language; the classifier
    # uses them as shared cross-language features. Optional: an empty mapping is valid.
    cues: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Taxonomy:
    version: str
    default_language: str
    languages: tuple[str, ...]
    primary: tuple[Category, ...]
    flags: tuple[Category, ...]

    @property
    def primary_slugs(self) -> tuple[str, ...]:
        return tuple(c.slug for c in self.primary)

    @property
    def flag_slugs(self) -> tuple[str, ...]:
        return tuple(c.slug for c in self.flags)

    def is_primary(self, slug: object) -> bool:
        return isinstance(slug, str) and slug in self.primary_slugs

    def is_flag(self, slug: object) -> bool:
        return isinstance(slug, str) and slug in self.flag_slugs

    def category(self, slug: str) -> Category:
        for item in (*self.primary, *self.flags):
            if item.slug == slug:
                return item
        raise KeyError(f"unknown category or flag {slug!r} in taxonomy {self.version}")

    def label(self, slug: str, lang: str | None = None) -> Label:
        """The label in `lang` (a BCP 47 tag such as "fr-CA" falls back to "fr"), else the default."""
        labels = self.category(slug).labels
        for candidate in _language_candidates(lang):
            if candidate in labels:
                return labels[candidate]
        return labels[self.default_language]

    def name(self, slug: str, lang: str | None = None) -> str:
        return self.label(slug, lang).name

    def description(self, slug: str, lang: str | None = None) -> str:
        return self.label(slug, lang).description


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    """Read and validate a taxonomy file: `path`, else $PROBITY_TAXONOMY, else the bundled one."""
    chosen = Path(path or os.environ.get(PATH_VARIABLE) or DEFAULT_PATH)
    try:
        raw = json.loads(chosen.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TaxonomyError(f"{chosen}: cannot read taxonomy file: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{chosen}: not valid UTF-8 JSON: {exc}") from exc
    try:
        return parse_taxonomy(raw)
    except TaxonomyError as exc:
        raise TaxonomyError(f"{chosen}: {exc}") from None


def parse_taxonomy(raw: Any) -> Taxonomy:
    """Validate an already-decoded taxonomy document and build the typed taxonomy."""
    if not isinstance(raw, dict):
        raise TaxonomyError("the top level must be a JSON object")
    version = _text(raw, "version", "taxonomy")
    languages = raw.get("languages")
    if not isinstance(languages, list) or not languages:
        raise TaxonomyError("'languages' must be a non-empty list of language codes")
    for code in languages:
        if not isinstance(code, str) or not _LANGUAGE.match(code):
            raise TaxonomyError(f"'languages' holds {code!r}, which is not a lower-case language code")
    default = _text(raw, "default_language", "taxonomy")
    if default not in languages:
        raise TaxonomyError(f"default_language {default!r} is not one of the listed languages")

    primary = _categories(raw, "primary", tuple(languages))
    flags = _categories(raw, "flags", tuple(languages), allow_empty=True)
    slugs = [c.slug for c in (*primary, *flags)]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise TaxonomyError(f"slugs must be unique across categories and flags; repeated: {duplicates}")
    if len(primary) < 2:
        raise TaxonomyError("at least two primary categories are needed to classify anything")
    return Taxonomy(version, default, tuple(languages), primary, flags)


def _categories(
    raw: dict[str, Any], key: str, languages: tuple[str, ...], allow_empty: bool = False
) -> tuple[Category, ...]:
    items = raw.get(key)
    if not isinstance(items, list) or (not items and not allow_empty):
        raise TaxonomyError(f"'{key}' must be a {'' if allow_empty else 'non-empty '}list")
    return tuple(_category(item, f"{key}[{i}]", languages) for i, item in enumerate(items))


def _category(item: Any, where: str, languages: tuple[str, ...]) -> Category:
    if not isinstance(item, dict):
        raise TaxonomyError(f"{where} must be an object")
    slug = _text(item, "slug", where)
    if not _SLUG.match(slug):
        raise TaxonomyError(f"{where}: slug {slug!r} must be lower-case words joined by hyphens")
    where = f"{where} ({slug})"
    references = item.get("references", [])
    if not isinstance(references, list) or not all(isinstance(r, str) and r for r in references):
        raise TaxonomyError(f"{where}: 'references' must be a list of non-empty strings")
    quote = item.get("quote", "")
    if not isinstance(quote, str):
        raise TaxonomyError(f"{where}: 'quote' must be a string")
    labels = item.get("labels")
    if not isinstance(labels, dict):
        raise TaxonomyError(f"{where}: 'labels' must map language codes to a name and a description")
    missing = [code for code in languages if code not in labels]
    if missing:
        raise TaxonomyError(f"{where}: no label for language(s) {', '.join(missing)}")
    parsed = {code: _label(entry, f"{where} {code}") for code, entry in labels.items()}
    return Category(slug, tuple(references), quote, MappingProxyType(parsed), _cues(item.get("cues", {}), where))


def _cues(raw: Any, where: str) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{where}: 'cues' must map language codes to lists of words")
    for code, words in raw.items():
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise TaxonomyError(f"{where}: cues for {code!r} must be a list of non-empty strings")
    return MappingProxyType({code: tuple(words) for code, words in raw.items()})


def _label(entry: Any, where: str) -> Label:
    if not isinstance(entry, dict):
        raise TaxonomyError(f"{where}: a label must be an object with 'name' and 'description'")
    return Label(_text(entry, "name", where), _text(entry, "description", where))


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TaxonomyError(f"{where}: '{key}' must be a non-empty string")
    return value


def _language_candidates(lang: str | None) -> tuple[str, ...]:
    if not lang:
        return ()
    tag = lang.strip().replace("_", "-").lower()
    return (tag, tag.split("-", 1)[0])
