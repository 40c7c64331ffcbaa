"""The reporter's pages speak the six UN languages, and no public text is left untranslated.

Catalogs live in translations/<lang>/LC_MESSAGES/messages.po; the compiled .mo files are build
output, so this module compiles any that are missing or older than their .po before the app starts.
"""
from __future__ import annotations

import functools
import gettext
import html
import io
import os
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from jinja2.ext import babel_extract

from core.app import LANGUAGES
from tests.intake.helpers import form_ticket, open_mailbox, receipt_from

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")

# Text a reporter may see: the shared layout and error page, the public templates, the intake
# package and the error messages.
PUBLIC_TEMPLATES = [ROOT / "templates" / "base.html", ROOT / "templates" / "error.html",
                    *sorted((ROOT / "templates" / "public").glob("**/*.html"))]
PUBLIC_PYTHON = [*sorted((ROOT / "intake").glob("**/*.py")), ROOT / "core" / "errors.py"]

# The first heading of each page, as a reporter reading that language sees it.
LANDING_HEADING = {
    "en": "Report corruption or misconduct by a public official",
    "ar": "أبلغ عن فساد أو مخالفة ارتكبها موظف عمومي",
    "zh": "举报公职人员的腐败或不当行为",
    "fr": "Signaler la corruption ou un manquement d’un agent public",
    "ru": "Сообщите о коррупции или других нарушениях со стороны государственного должностного лица",
    "es": "Denuncie la corrupción o las irregularidades de un funcionario público",
}
FORM_HEADING = {
    "en": "Make a report",
    "ar": "تقديم بلاغ",
    "zh": "我要举报",
    "fr": "Faire un signalement",
    "ru": "Сообщить о нарушении",
    "es": "Presentar una denuncia",
}
FOLLOWUP_HEADING = {
    "en": "Open your mailbox",
    "ar": "افتح صندوق رسائلك",
    "zh": "打开您的信箱",
    "fr": "Ouvrir votre messagerie",
    "ru": "Откройте свой почтовый ящик",
    "es": "Abra su buzón",
}
ERROR_HEADING = {"en": "Sorry", "ar": "عذرًا", "zh": "抱歉", "fr": "Nous sommes désolés", "ru": "Извините",
                 "es": "Lo sentimos"}
# Server-side %(name)s placeholders, and {name} ones that the page script fills in.
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
# Jinja inserts a translation as trusted markup and always %-formats it, so these must not sneak in.
UNSAFE_IN_TRANSLATION = ('"', "'", "<", ">", "&", "%")


def po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def read_catalog(lang: str) -> Catalog:
    with po_path(lang).open("rb") as handle:
        return read_po(handle, locale=lang)


def compile_catalog(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def compile_stale_catalogs() -> None:
    """Write each .mo that is missing or older than its .po, atomically (parallel runs may race)."""
    for lang in TRANSLATED:
        source = po_path(lang)
        target = source.with_suffix(".mo")
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        compiled = compile_catalog(read_catalog(lang))
        fd, temporary = tempfile.mkstemp(dir=target.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(compiled)
        os.replace(temporary, target)


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs() -> None:
    compile_stale_catalogs()


def forms(text: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A message's text as a tuple: one entry, or one per plural form."""
    return tuple(text) if isinstance(text, (tuple, list)) else (text,)


def placeholders(text: str | tuple[str, ...] | list[str]) -> set[str]:
    return {name for form in forms(text) for name in PLACEHOLDER.findall(form)}


@functools.cache
def public_messages() -> dict[str, list[str]]:
    """Every msgid a reporter can meet, freshly extracted from the sources, with where it is used."""
    found: dict[str, list[str]] = {}

    def collect(paths: list[Path], method: object) -> None:
        for path in paths:
            with path.open("rb") as handle:
                for lineno, message, _comments, _context in extract(method, handle):  # type: ignore[arg-type]
                    msgid = message[0] if isinstance(message, tuple) else message
                    if msgid:
                        found.setdefault(msgid, []).append(f"{path.relative_to(ROOT)}:{lineno}")

    collect(PUBLIC_TEMPLATES, babel_extract)
    collect(PUBLIC_PYTHON, "python")
    return found


def heading(page: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert match, "page has no <h1>"
    return html.unescape(match.group(1)).strip()


def html_tag(page: str) -> str:
    match = re.search(r"<html[^>]*>", page)
    assert match, "page has no <html> tag"
    return match.group(0)


def assert_speaks(page: str, lang: str) -> None:
    tag = html_tag(page)
    assert f'lang="{lang}"' in tag
    assert f'dir="{"rtl" if lang == "ar" else "ltr"}"' in tag
    assert "%(" not in page, "a placeholder was left unfilled"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_landing_page_speaks_the_language(client: FlaskClient, lang: str) -> None:
    response = client.get(f"/?lang={lang}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert_speaks(page, lang)
    assert heading(page) == LANDING_HEADING[lang]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_report_form_speaks_the_language(client: FlaskClient, lang: str) -> None:
    response = client.get(f"/report?lang={lang}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert_speaks(page, lang)
    assert heading(page) == FORM_HEADING[lang]
    assert f"<title>{FORM_HEADING[lang]} — Probity</title>" in page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_followup_login_speaks_the_language(client: FlaskClient, lang: str) -> None:
    page = client.get(f"/followup?lang={lang}").get_data(as_text=True)
    assert_speaks(page, lang)
    assert heading(page) == FOLLOWUP_HEADING[lang]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_error_page_speaks_the_language(client: FlaskClient, lang: str) -> None:
    response = client.get(f"/no-such-page?lang={lang}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert_speaks(page, lang)
    assert heading(page) == ERROR_HEADING[lang]


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_english_sentence_is_left_on_public_pages(client: FlaskClient, lang: str) -> None:
    catalog = read_catalog(lang)
    sentences = [msgid for msgid in public_messages()
                 if len(msgid) > 20 and not PLACEHOLDER.search(msgid)
                 and (message := catalog.get(msgid)) is not None and message.string != msgid]
    for path in ("/", "/report", "/followup", "/code-of-conduct", "/no-such-page"):
        page = html.unescape(client.get(f"{path}?lang={lang}").get_data(as_text=True))
        assert [sentence for sentence in sentences if sentence in page] == [], path


def test_browser_language_is_used_when_the_address_names_none(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert 'lang="ru"' in html_tag(page)
    assert heading(page) == LANDING_HEADING["ru"]
    chosen = client.get("/?lang=es", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert heading(chosen) == LANDING_HEADING["es"]


def test_a_report_made_in_arabic_gets_an_arabic_receipt_and_mailbox(client: FlaskClient) -> None:
    ticket = form_ticket(client, "/report?lang=ar")
    response = client.post("/report?lang=ar", data={"ticket": ticket, "summary": "طلب الموظف رشوة"},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    receipt_page = response.get_data(as_text=True)
    assert_speaks(receipt_page, "ar")
    assert heading(receipt_page) == "تم استلام بلاغك"
    assert "دوّن هذا الرمز الآن على ورقة، واحفظه في مكان آمن." in receipt_page

    assert open_mailbox(client, receipt_from(receipt_page)).status_code == 303
    mailbox = client.get("/followup/mailbox?lang=ar").get_data(as_text=True)
    assert_speaks(mailbox, "ar")
    assert heading(mailbox) == "صندوق رسائلك"
    assert "ما زال بلاغك قيد المعالجة" in mailbox


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalog_translates_every_public_message(lang: str) -> None:
    catalog = read_catalog(lang)
    missing, fuzzy = [], []
    for msgid, where in public_messages().items():
        message = catalog.get(msgid)
        if message is None or not all(forms(message.string)):
            missing.append(f"{msgid!r} ({where[0]})")
        elif message.fuzzy:
            fuzzy.append(f"{msgid!r} ({where[0]})")
    assert not missing, f"{lang}: untranslated public text (see docs/translating.md):\n" + "\n".join(missing)
    assert not fuzzy, f"{lang}: fuzzy public translations need review:\n" + "\n".join(fuzzy)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalog_keeps_placeholders_and_compiles(lang: str) -> None:
    catalog = read_catalog(lang)
    for message in catalog:
        if message.id and all(forms(message.string)):
            assert placeholders(message.string) == placeholders(message.id), \
                f"{lang}: placeholders differ in {message.id!r}"
    assert [problem for problem in catalog.check()] == []
    translations = gettext.GNUTranslations(io.BytesIO(compile_catalog(catalog)))
    assert translations.gettext("Make a report") == FORM_HEADING[lang]


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_add_no_markup_or_format_characters(lang: str) -> None:
    catalog = read_catalog(lang)
    unsafe = [(message.id, character) for message in catalog if message.id
              for character in UNSAFE_IN_TRANSLATION for form in forms(message.string)
              if form.count(character) > max(source.count(character) for source in forms(message.id))]
    assert unsafe == []
