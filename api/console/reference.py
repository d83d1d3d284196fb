"""The billing rules reference (policies/billing-rules.md) as a page, so a
rule's `cites` (S3, L1, D4...) link to its anchor from the workbench.

The reference ships with the policies that cite it (package data of
``tariff.policies``), so an installed wheel has it too. Its Markdown is a small subset (headings, paragraphs, bold, code,
the anchors it writes as ``<a id="S1"></a>``, tables), rendered here after
escaping everything: no other HTML from the file reaches the page.
"""
from __future__ import annotations

import functools
import html
import re
from pathlib import Path

from tariff.resources import shipped_policies

NAME = "billing-rules.md"
ANCHOR = re.compile(r'&lt;a id=&quot;([A-Z][0-9]+)&quot;&gt;&lt;/a&gt;')
BOLD = re.compile(r"\*\*(.+?)\*\*")
CODE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\[([^\]]+)\]\(#([A-Za-z0-9_-]+)\)")


def _source() -> Path | None:
    path = shipped_policies() / NAME
    return path if path.is_file() else None


def _inline(text: str) -> str:
    text = html.escape(text)
    text = ANCHOR.sub(r'<a id="\1"></a>', text)
    text = BOLD.sub(r"<strong>\1</strong>", text)
    text = CODE.sub(r"<code>\1</code>", text)
    return LINK.sub(r'<a href="#\2">\1</a>', text)


def render(markdown: str) -> str:
    out: list[str] = []
    for block in re.split(r"\n\s*\n", markdown.strip()):
        lines = block.splitlines()
        heading = re.match(r"^(#{1,4}) (.*)$", lines[0])
        if heading and len(lines) == 1:
            level = len(heading.group(1)) + 1  # the page's own h1 is its title
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif all(line.lstrip().startswith("|") for line in lines):
            rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines
                    if not re.match(r"^\s*\|[\s|:-]+\|\s*$", line)]
            head, *body = rows
            out.append("<div class=\"table-wrap\"><table><thead><tr>"
                       + "".join(f"<th scope=\"col\">{_inline(c)}</th>" for c in head) + "</tr></thead><tbody>"
                       + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in body)
                       + "</tbody></table></div>")
        elif all(line.lstrip().startswith(("- ", "* ")) or line.startswith("  ") for line in lines):
            items, current = [], []
            for line in lines:
                if line.lstrip().startswith(("- ", "* ")) and current:
                    items.append(" ".join(current))
                    current = []
                current.append(line.strip().lstrip("-* "))
            items.append(" ".join(current))
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        elif lines[0].startswith("```"):
            out.append(f"<pre>{html.escape(chr(10).join(lines[1:-1]))}</pre>")
        else:
            out.append(f"<p>{_inline(' '.join(line.strip() for line in lines))}</p>")
    return "\n".join(out)


@functools.lru_cache(maxsize=1)
def _cached(path: str, mtime_ns: int) -> str:
    return render(Path(path).read_text(encoding="utf-8"))


def billing_rules_html() -> str | None:
    """The reference as HTML (its anchors kept), or None when it is not installed."""
    path = _source()
    if path is None:
        return None
    return _cached(str(path), path.stat().st_mtime_ns)
