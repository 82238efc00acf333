"""The notice's message catalogs: the template holds exactly the wording in the code, the
Japanese catalog translates all of it with the same placeholders, and the compiled catalog
the gateway reads is the catalog's current text (`make catalogs` ran after the last edit)."""

import gettext
from pathlib import Path

import pytest
from babel.messages.catalog import TranslationError
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from registry import notice

LOCALE = notice.LOCALE_DIR
SOURCE = Path(notice.__file__)
KEYWORDS = {"t": None, "N_": None}


def _po(lang: str):
    with open(LOCALE / lang / "LC_MESSAGES" / "notice.po", "rb") as fh:
        return read_po(fh)


def test_the_template_holds_exactly_the_wording_of_the_code():
    in_code = {message for _, message, _, _ in extract_from_file("python", SOURCE, keywords=KEYWORDS)}
    with open(LOCALE / "notice.pot", "rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    assert sorted(in_code - template) == [], "run `make messages` and translate the new wording"
    assert sorted(template - in_code) == [], "run `make messages`"


def test_the_japanese_catalog_translates_every_message_with_its_placeholders():
    catalog = _po("ja")
    with open(LOCALE / "notice.pot", "rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    messages = {m.id: m for m in catalog if m.id}
    assert sorted(template - messages.keys()) == []
    assert [m.id for m in messages.values() if not m.string or m.fuzzy] == []
    for m in messages.values():
        python_format(catalog, m)  # raises TranslationError when the placeholders differ


def test_a_translation_with_a_wrong_placeholder_is_caught():
    """The check above can fail."""
    catalog = _po("ja")
    message = catalog.get("Address: %(address)s")
    message.string = "住所：%(adress)s"
    with pytest.raises(TranslationError, match="adress"):
        python_format(catalog, message)


def test_the_compiled_catalog_is_the_current_one():
    with open(LOCALE / "ja" / "LC_MESSAGES" / "notice.mo", "rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    assert compiled == {m.id: m.string for m in _po("ja") if m.id}, "run `make catalogs`"
    assert notice.translations("ja").gettext("Contact") == "お問い合わせ窓口"


def test_a_missing_compiled_catalog_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(notice, "LOCALE_DIR", tmp_path)
    notice.translations.cache_clear()
    try:
        with pytest.raises(notice.CatalogsNotCompiled, match="make catalogs"):
            notice.translations("ja")
    finally:
        monkeypatch.undo()
        notice.translations.cache_clear()
    assert isinstance(notice.translations("ja"), gettext.GNUTranslations)
