"""report.html: self-contained, escapes the input, shows the components."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from support import Run, write_tree


def test_report_html_lists_the_copies(example_tree: Path, evaluate: Callable[..., Run]) -> None:
    html = (evaluate(example_tree).out / "report.html").read_text(encoding="utf-8")
    assert "Third-party components (1 copies)" in html
    assert "<code>third_party/zlib</code>" in html
    assert "Known vulnerabilities and support" in html
    assert "CVE-2022-37434 (critical)" in html  # the example's zlib 1.2.11
    # CVE-2023-45853 (zlib's minizip, a curated row) is rated by none of the shipped sources
    assert "CVE-2023-45853<br>" in html  # listed without a rating
    assert "1 of 3: severity not published in the shipped data" in html


def test_report_is_self_contained_and_escapes_the_input(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    tree = write_tree(tmp_path / "t", {"<script>x</script>.c": "void f(char*a){strcpy(a,a);}\n"})
    html = (evaluate(tree).out / "report.html").read_text(encoding="utf-8")
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;.c" in html
    assert "http://" not in html and "https://" not in html
