"""Every string is translatable, and the Brazilian Portuguese catalogues translate all of them.

(a) ``makemessages`` for pt_BR (the ``django`` and ``djangojs`` domains) runs on a temporary
    copy of the sources and of ``locale/`` (the committed files are never rewritten); every
    msgid that the committed catalogue lacks, leaves empty or marks fuzzy fails the test, by
    name. So do translations whose placeholders differ from their msgid's.
(b) Every template is read with Django's template Lexer: text outside ``{% translate %}`` /
    ``{% blocktranslate %}`` that holds words (letters), in the page or in the attributes a
    person reads (title, aria-label, placeholder, alt, data-confirm), fails, but for a short
    allow-list of what is not language (the product's name, units, formats).

Both checks are also run on planted mistakes, to show that they fail when they should.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template.base import Lexer, TokenType
from django.test import override_settings

REPO = Path(__file__).resolve().parents[2]
LOCALE = "pt_BR"
DOMAINS = ("django", "djangojs")
#: Folders makemessages does not read: the virtualenv, run-time data, installed JS packages,
#: the benchmark and the tests (their strings are not the product's), collected static files.
IGNORED_DIRS = {".venv", "var", "node_modules", "bench", "tests", "staticfiles"}
SOURCE_SUFFIXES = {".py", ".html", ".txt", ".js", ".po"}


# ---------------------------------------------------------------- (a) the catalogues


@dataclass
class Entry:
    msgid: str
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    fuzzy: bool = False

    def label(self) -> str:
        return f"{self.msgctxt}|{self.msgid}" if self.msgctxt else self.msgid


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(line: str) -> str:
    match = _QUOTED.search(line)
    if not match:
        return ""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), match.group(1))


def po_entries(path: Path) -> list[Entry]:
    """The live entries of a ``.po`` file (no header, no obsolete ``#~`` entries)."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None
    fuzzy = False

    def close() -> None:
        nonlocal entry
        if entry is not None and entry.msgid:
            entries.append(entry)
        entry = None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            close()
            fuzzy = False
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            fuzzy = fuzzy or "fuzzy" in [flag.strip() for flag in line[2:].split(",")]
            continue
        if line.startswith("#"):
            continue
        keyword = line.split(" ", 1)[0]
        # An entry starts at its msgctxt, or at a msgid that no msgctxt of its own came before.
        if keyword == "msgctxt" or (keyword == "msgid" and (entry is None or entry.msgstrs)):
            close()
            entry = Entry(msgid="", fuzzy=fuzzy)
            fuzzy = False
        if entry is None:
            continue
        if keyword == "msgctxt":
            entry.msgctxt, target = _unquote(line), ("msgctxt", 0)
        elif keyword == "msgid":
            entry.msgid, target = _unquote(line), ("msgid", 0)
        elif keyword == "msgid_plural":
            entry.msgid_plural, target = _unquote(line), ("msgid_plural", 0)
        elif keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if "[" in keyword else 0
            while len(entry.msgstrs) <= index:
                entry.msgstrs.append("")
            entry.msgstrs[index], target = _unquote(line), ("msgstr", index)
        elif line.startswith('"') and target is not None:
            name, index = target
            if name == "msgstr":
                entry.msgstrs[index] += _unquote(line)
            else:
                setattr(entry, name, (getattr(entry, name) or "") + _unquote(line))
    close()
    return entries


_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")


def catalogue_problems(path: Path) -> list[str]:
    """What is wrong with a catalogue: entries left empty or fuzzy, placeholders that differ."""
    if not path.exists():
        return [f"{path.name}: missing"]
    problems = []
    for entry in po_entries(path):
        if entry.fuzzy:
            problems.append(f"fuzzy: {entry.label()!r}")
        elif not entry.msgstrs or not all(entry.msgstrs):
            problems.append(f"untranslated: {entry.label()!r}")
        else:
            expected = sorted(_PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
            for index, msgstr in enumerate(entry.msgstrs):
                found = sorted(_PLACEHOLDER.findall(msgstr))
                # The singular of a plural may say its count in words ("um minuto"); nothing else
                # may drop or add a placeholder.
                words_for_count = entry.msgid_plural and index == 0 and set(found) < set(expected)
                if found != expected and not words_for_count:
                    problems.append(f"placeholders differ: {entry.label()!r} -> {msgstr!r}")
    return problems


def _copy_sources(destination: Path) -> None:
    """The files makemessages reads, and ``locale/``, copied to ``destination``."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set()
        for name in names:
            path = Path(directory) / name
            if path.is_dir():
                if name in IGNORED_DIRS or name.startswith(".") or name == "__pycache__":
                    skipped.add(name)
            elif path.suffix not in SOURCE_SUFFIXES:
                skipped.add(name)
        return skipped

    shutil.copytree(REPO, destination, ignore=ignore, dirs_exist_ok=True)


def makemessages_in(tree: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Run makemessages for pt_BR in ``tree`` (its own ``locale/``); the catalogues it leaves."""
    monkeypatch.chdir(tree)
    with override_settings(LOCALE_PATHS=[tree / "locale"]):
        for domain in DOMAINS:
            call_command(
                "makemessages",
                locale=[LOCALE],
                domain=domain,
                ignore_patterns=[*(f"{name}/*" for name in IGNORED_DIRS), "static/vendor/*"],
                no_obsolete=True,
                verbosity=0,
            )
    return {domain: tree / "locale" / LOCALE / "LC_MESSAGES" / f"{domain}.po" for domain in DOMAINS}


def test_the_catalogues_translate_every_string_of_the_sources(tmp_path, monkeypatch):
    # Given the sources as they are, and the committed catalogues
    tree = tmp_path / "tree"
    _copy_sources(tree)
    committed = {domain: (REPO / "locale" / LOCALE / "LC_MESSAGES" / f"{domain}.po") for domain in DOMAINS}
    before = {domain: path.read_bytes() for domain, path in committed.items() if path.exists()}

    # When makemessages brings every msgid of the sources into a copy of them
    merged = makemessages_in(tree, monkeypatch)

    # Then no msgid is missing, empty or fuzzy, in either domain
    problems = {domain: catalogue_problems(path) for domain, path in merged.items()}
    assert problems == {"django": [], "djangojs": []}, "Run makemessages and translate:\n" + "\n".join(
        f"{domain}: {problem}" for domain, items in problems.items() for problem in items
    )
    # And the committed files were not touched
    assert {domain: path.read_bytes() for domain, path in committed.items() if path.exists()} == before
    assert set(before) == set(DOMAINS)


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_committed_catalogues_compile_and_keep_their_placeholders(domain):
    path = REPO / "locale" / LOCALE / "LC_MESSAGES" / f"{domain}.po"

    checked = subprocess.run(
        ["msgfmt", "--check", "--output-file=/dev/null", str(path)], capture_output=True, text=True, check=False
    )

    assert checked.returncode == 0, checked.stderr
    assert catalogue_problems(path) == []


def test_a_planted_untranslated_string_fails_the_check(tmp_path, monkeypatch):
    # Given a tree with the committed catalogues and two new strings, one per domain
    tree = tmp_path / "tree"
    shutil.copytree(REPO / "locale", tree / "locale")
    (tree / "templates").mkdir()
    (tree / "templates" / "planted.html").write_text(
        '{% load i18n %}<p>{% translate "A planted sentence nobody translated" %}</p>'
    )
    (tree / "static").mkdir()
    (tree / "static" / "planted.js").write_text('gettext("A planted script sentence nobody translated");\n')

    # When makemessages runs there
    merged = makemessages_in(tree, monkeypatch)

    # Then each new string is named as untranslated (and nothing else changed)
    assert "untranslated: 'A planted sentence nobody translated'" in catalogue_problems(merged["django"])
    assert "untranslated: 'A planted script sentence nobody translated'" in catalogue_problems(merged["djangojs"])


def test_the_catalogue_check_names_empty_fuzzy_and_broken_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: pt_BR\\n"\n\n'
        'msgid "Ready"\nmsgstr "Pronto"\n\n'
        'msgid "Library"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Delete"\nmsgstr "Apagar"\n\n'
        'msgid "“%(name)s” is empty."\nmsgstr "O arquivo está vazio."\n\n'
        'msgctxt "navigation"\nmsgid "Main"\nmsgstr "Principal"\n\n'
        'msgid "%(count)d minute"\nmsgid_plural "%(count)d minutes"\nmsgstr[0] "%(count)d minuto"\nmsgstr[1] ""\n\n'
        '#~ msgid "Gone"\n#~ msgstr ""\n',
        encoding="utf-8",
    )

    assert catalogue_problems(po) == [
        "untranslated: 'Library'",
        "fuzzy: 'Delete'",
        "placeholders differ: '“%(name)s” is empty.' -> 'O arquivo está vazio.'",
        "untranslated: '%(count)d minute'",
    ]


# ---------------------------------------------------------------- (b) the templates

#: Attributes whose text a person reads (or hears).
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-confirm"}
#: Words that are not language: the product's name, units and file formats.
NOT_LANGUAGE = {"IsoMix", "Studio", "dB", "Hz", "kbps", "MP3", "WAV", "FLAC", "BPM"}
_NOT_LANGUAGE = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(NOT_LANGUAGE))) + r")(?!\w)")
_LETTER = re.compile(r"[^\W\d_]")
#: Stands for a tag or a variable in the text the HTML parser reads (a private-use character:
#: not a letter, so ``title="{{ name }}"`` holds no words).
_MARK = "\ue000"
_TRANSLATED_BLOCKS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans", "comment": "endcomment"}


def _words(text: str) -> bool:
    return bool(_LETTER.search(_NOT_LANGUAGE.sub("", text.replace(_MARK, " "))))


def template_html(source: str) -> str:
    """The template as the HTML parser should read it: ``{{ }}`` and ``{% %}`` become a mark,
    ``{# #}``, comments and blocktranslate's own text go (keeping their line breaks)."""
    parts: list[str] = []
    closing: str | None = None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split(" ", 1)[0]
            if closing is None and name in _TRANSLATED_BLOCKS:
                closing = _TRANSLATED_BLOCKS[name]
            elif name == closing:
                closing = None
            parts.append(_MARK)
        elif token.token_type == TokenType.VAR:
            parts.append(_MARK)
        elif token.token_type == TokenType.TEXT:
            parts.append("\n" * token.contents.count("\n") if closing else token.contents)
    return "".join(parts)


class _TextFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.in_kbd = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_kbd += tag == "kbd"
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and _words(value):
                self.found.append((self.getpos()[0], f'{name}="{value.replace(_MARK, "…")}"'))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.in_kbd -= tag == "kbd"

    def handle_endtag(self, tag: str) -> None:
        self.in_kbd = max(0, self.in_kbd - (tag == "kbd"))

    def handle_data(self, data: str) -> None:
        # One key cap (<kbd>M</kbd>) is the key's own name in every language; "Space" is not.
        if self.in_kbd and len(data.strip()) == 1:
            return
        if _words(data):
            self.found.append((self.getpos()[0], " ".join(data.replace(_MARK, "…").split())))


def untranslated_template_text(source: str) -> list[tuple[int, str]]:
    """(line, text) of each piece of words in ``source`` that no translate tag covers."""
    finder = _TextFinder()
    finder.feed(template_html(source))
    finder.close()
    return finder.found


def _templates() -> list[Path]:
    folders = [REPO / "templates", *(p for p in REPO.glob("*/templates") if p.parent.name not in IGNORED_DIRS)]
    return sorted({path for folder in folders for path in folder.rglob("*.html")})


def test_every_template_string_is_translatable():
    problems = [
        f"{path.relative_to(REPO)}:{line}: {text}"
        for path in _templates()
        for line, text in untranslated_template_text(path.read_text(encoding="utf-8"))
    ]

    assert _templates(), "no templates found"
    assert problems == [], "Wrap these in {% translate %} / {% blocktranslate %}:\n" + "\n".join(problems)


def test_a_planted_untranslated_text_or_attribute_fails_the_check():
    source = (
        "{% load i18n %}\n"
        "<h1>{% translate 'Library' %}</h1>\n"
        "<p>Upload a song</p>\n"
        '<button title="Close window" aria-label="{% translate \'Close\' %}">×</button>\n'
        '<input placeholder="Song name" value="{{ name }}">\n'
        '<form data-confirm="Delete “{{ name }}”?"></form>\n'
        "<img alt='' src='x.png'>\n"
        "<dt><kbd>Space</kbd> <kbd>M</kbd></dt>\n"
    )

    assert untranslated_template_text(source) == [
        (3, "Upload a song"),
        (4, 'title="Close window"'),
        (5, 'placeholder="Song name"'),
        (6, 'data-confirm="Delete “…”?"'),
        (8, "Space"),
    ]


def test_translated_text_variables_comments_and_units_pass_the_check():
    source = (
        "{% load i18n %}{# A comment with words #}\n"
        "{% comment %}Explained in words{% endcomment %}\n"
        "<title>{% block title %}IsoMix Studio{% endblock %}</title>\n"
        "<p>{% blocktranslate with mb=10 %}up to {{ mb }} MB{% endblocktranslate %} · 320 kbps · −6 dB</p>\n"
        '<a title="{{ name }}" aria-label="{% translate "Open" %}">{{ name }}</a>\n'
        "<dt><kbd>M</kbd> <kbd>S</kbd> <kbd>{% translate 'Space' %}</kbd></dt>\n"
    )

    assert untranslated_template_text(source) == []
