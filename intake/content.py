"""The plaintext of a report: the UTF-8 JSON that gets sealed, and its validation.

Both intake paths build exactly this document; the triage worker and the workspace read it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from intake.errors import InvalidReport
from flask_babel import gettext as _

FIELDS = ("summary", "details", "when", "where", "who", "how_known")
FIELD_LIMITS = {"summary": 500, "details": 100_000, "when": 500, "where": 500, "who": 2_000,
                "how_known": 2_000}


@dataclass(frozen=True)
class ReportContent:
    lang: str
    fields: dict[str, str] = field(default_factory=dict)
    category_hint: str | None = None

    @property
    def summary(self) -> str:
        return self.fields["summary"]

    def text_for_triage(self) -> str:
        """What the classifier reads: every field the reporter wrote, in a fixed order."""
        return "\n".join(self.fields[name] for name in FIELDS if self.fields.get(name))


def build_content(lang: str, values: dict[str, str | None], category_hint: str | None,
                  known_categories: frozenset[str]) -> ReportContent:
    """Validate what a reporter typed; raise InvalidReport with a message they can act on."""
    fields: dict[str, str] = {}
    for name in FIELDS:
        # Browsers post textarea line breaks as CRLF; the page script sends LF. Store one form.
        value = (values.get(name) or "").replace("\r\n", "\n").strip()
        if len(value) > FIELD_LIMITS[name]:
            raise InvalidReport(_("The field '%(name)s' is too long (at most %(limit)s characters).", name=name,
                                  limit=FIELD_LIMITS[name]))
        if value:
            fields[name] = value
    if not fields.get("summary"):
        raise InvalidReport(_("Please write a short summary of what happened: it is the one required field."))
    hint = category_hint or None
    if hint is not None and hint not in known_categories:
        raise InvalidReport(_("The category you chose is not one we know. Choose one from the list or leave it empty."))
    lang = (lang or "und").strip()[:35] or "und"
    return ReportContent(lang=lang, fields=fields, category_hint=hint)


def encode_content(content: ReportContent) -> bytes:
    document = {"lang": content.lang, "fields": {**content.fields, "category_hint": content.category_hint}}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_content(plaintext: bytes) -> ReportContent:
    """Parse a decrypted report. Raises InvalidReport when it is not the documented JSON."""
    try:
        document = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, OverflowError) as exc:
        raise InvalidReport(_("The report is not valid UTF-8 JSON.")) from exc
    if not isinstance(document, dict) or not isinstance(document.get("fields"), dict):
        raise InvalidReport(_("The report has no 'fields' object."))
    raw_fields = document["fields"]
    fields = {name: str(raw_fields[name]) for name in FIELDS if isinstance(raw_fields.get(name), str) and raw_fields[name]}
    if "summary" not in fields:
        raise InvalidReport(_("The report has no summary."))
    hint = raw_fields.get("category_hint")
    return ReportContent(lang=str(document.get("lang") or "und"), fields=fields,
                         category_hint=hint if isinstance(hint, str) else None)
