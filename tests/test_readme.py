"""Every local link and picture in README.md and docs/*.md resolves (web links are not fetched), and every
test they name exists."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def local_targets(markdown: str) -> list[str]:
    """Link and image targets of a Markdown page (inline HTML <img src> too), without web links."""
    targets = []
    for token in MarkdownIt().parse(markdown):
        for child in token.children or []:
            if child.type == "link_open":
                targets.append(str(child.attrs["href"]))
            elif child.type == "image":
                targets.append(str(child.attrs["src"]))
            elif child.type == "html_inline":
                targets += re.findall(r'src="([^"]+)"', child.content)
        if token.type == "html_block":
            targets += re.findall(r'src="([^"]+)"', token.content)
    return [t for t in targets if not urlsplit(t).scheme and not t.startswith("#")]


def test_the_parser_sees_links_and_pictures() -> None:
    page = '![a](img/a.jpg) [b](b.md#x) [c](https://example.org) `[d](d.md)` <img src="e.png">\n'
    assert local_targets(page) == ["img/a.jpg", "b.md#x", "e.png"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_local_link_resolves(page: Path) -> None:
    missing = []
    for target in local_targets(page.read_text()):
        path = (page.parent / unquote(urlsplit(target).path)).resolve()
        if not path.exists():
            missing.append(target)
    assert not missing, f"{page.name}: broken local links {missing}"


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered."""
    tokens = MarkdownIt().parse(markdown)
    seen: dict[str, int] = {}
    for opening, inline in itertools.pairwise(tokens):
        if opening.type == "heading_open":
            text = "".join(c.content for c in inline.children or [] if c.type in ("text", "code_inline"))
            slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
            seen[slug] = seen.get(slug, -1) + 1
            if seen[slug]:
                seen[f"{slug}-{seen[slug]}"] = 0
    return set(seen)


def test_the_anchor_rule_follows_github() -> None:
    page = "# Results: the *shipped* weights\n## The lattice (`src/a/lattice.py`)\n## Notes\n## Notes\n"
    assert anchors(page) == {"results-the-shipped-weights", "the-lattice-srcalatticepy", "notes", "notes-1"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_anchor_resolves(page: Path) -> None:
    """A section moved to another page takes its anchor with it: links to `page.md#section` must follow."""
    text = page.read_text()
    missing = []
    for target in [*local_targets(text), *re.findall(r"\]\((#[^)\s]+)\)", text)]:
        parts = urlsplit(target)
        if not parts.fragment or (parts.path and not parts.path.endswith(".md")):
            continue
        linked = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if linked.is_file() and parts.fragment not in anchors(linked.read_text()):
            missing.append(target)
    assert not missing, f"{page.name}: links to missing sections {missing}"


def test_readme_pictures_are_small_and_exist() -> None:
    pictures = [t for t in local_targets((ROOT / "README.md").read_text()) if t.endswith((".jpg", ".png"))]
    assert "docs/img/viewer_gale.jpg" in pictures
    for pic in pictures:
        assert (ROOT / pic).stat().st_size < 600_000, pic


TEST_REF = re.compile(r"\btests/([\w/]+\.py)(?:::(\w+))?")


def missing_test_references(text: str, tests: Path) -> list[str]:
    """``tests/<path>.py`` and ``tests/<path>.py::<test>`` named in a page that no longer exist."""
    missing = []
    for path, name in TEST_REF.findall(text):
        file = tests / path
        if not file.is_file() or (name and not re.search(rf"^\s*def {name}\b", file.read_text(), re.M)):
            missing.append(f"tests/{path}" + (f"::{name}" if name else ""))
    return missing


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_test_a_page_names_exists(page: Path) -> None:
    """docs/reliability.md proves each promise by a named test: a moved or renamed test must be followed."""
    assert missing_test_references(page.read_text(), ROOT / "tests") == [], page.name


def test_the_test_reference_check_can_fail() -> None:
    real = "tests/test_readme.py::test_the_parser_sees_links_and_pictures"
    text = f"`{real}` `tests/test_readme.py::nope`; tests/x.py"
    assert missing_test_references(text, ROOT / "tests") == ["tests/test_readme.py::nope", "tests/x.py"]
