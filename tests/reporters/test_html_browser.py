"""report.html in a real headless browser: Debian's chromium driven by Playwright (no download).

The page must load without console errors, render every section, filter, and page to the last
finding of a report with 100,000 findings. Screenshots go to ``$ASSAY_TEST_ARTIFACTS`` (else the
test's tmp dir); their paths are printed.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay import cli, examples
from support import run_evaluation

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
FILES, CALLS = 100, 1000


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's chromium under Playwright, with a fresh profile."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package 'chromium'")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=ARGS, headless=True
        )
        yield context
        context.close()


def _artifact(tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("ASSAY_TEST_ARTIFACTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def _open(browser: Any, report: Path) -> tuple[Any, list[str], float]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append(f"request {r.url}") if not
            r.url.startswith("file:") else None)  # fmt: skip
    start = time.perf_counter()
    page.goto(report.as_uri(), wait_until="load")
    page.wait_for_selector("#f-page:has-text('page 1 of')")
    return page, errors, time.perf_counter() - start


@pytest.fixture(scope="module")
def example_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example release evaluated twice (trend), the second time with a baseline."""
    root = tmp_path_factory.mktemp("example")
    src = examples.materialise(root / "input")
    # A real shipped ELF file, so that the binaries section and its hardening matrix show.
    shutil.copy(Path(sys.executable).resolve(), src / "python-elf")
    db = str(root / "h.sqlite")
    common = ["-q", "-j", "1", "--no-cache", "--db", db, "--product", "router"]
    cli.main(["evaluate", str(src), "-o", str(root / "o1"), "--release", "1.0", *common])
    doc = json.loads((root / "o1" / "evaluation.json").read_text(encoding="utf-8"))
    accept = doc["findings"][0]["fingerprint"]
    (root / "b.toml").write_text(f'version = 1\n[[finding]]\nfingerprint = "{accept}"\n'
                                 'status = "accepted"\nreason = "vendor shim"\n')  # fmt: skip
    cli.main(["evaluate", str(src), "-o", str(root / "o2"), "--release", "1.1",
              "--baseline", str(root / "b.toml"), *common])  # fmt: skip
    return root / "o2"


def test_example_report_renders_every_section_and_filters(
    browser: Any, example_report: Path, tmp_path: Path
) -> None:
    doc = json.loads((example_report / "evaluation.json").read_text(encoding="utf-8"))
    page, errors, _ = _open(browser, example_report / "report.html")
    assert errors == []
    assert doc["rating"]["verdict"] in page.inner_text("#verdict")
    grades = page.locator("#rating-table tr").count() - 1
    assert grades == len(doc["rating"]["categories"])
    for selector in ("#provenance-table", "#trend-table", "#trend svg", "#libraries-table",
                     "#cat-unsafe-calls svg", "#hotspots svg", "#cat-complexity svg",
                     "#cat-safe-defeated", "#thresholds"):  # fmt: skip
        assert page.locator(selector).first.is_visible(), selector
    if "binaries" in doc:
        assert page.locator("#hardening-matrix tr").count() >= 2
    for name in ("secrets", "suppressions", "endpoints"):  # the example holds some of each
        rules = {f["rule_id"] for f in doc["findings"] if f["category"] == name}
        assert rules, name
        text = page.inner_text(f"#cat-{name}")
        assert all(rule in text for rule in rules), name
    secret_values = ("Tr0ub4dor&3", "xyzzy-debug")  # the example's literals, never shown
    assert not any(v in page.content() for v in secret_values)
    for absent in ("secrets", "equivalence", "binaries", "clones"):
        if absent not in doc:
            assert "Not evaluated" in page.inner_text(f"#cat-{absent}")
    assert doc["vulnerabilities"]["snapshot"] in page.inner_text("#provenance-table")
    assert doc["input"]["sha256"] in page.inner_text("#provenance-table")
    rows = page.locator("#findings-table tbody tr")
    assert rows.count() == len(doc["findings"])

    page.select_option("#f-category", "safe-defeated")
    expected = [f for f in doc["findings"] if f["category"] == "safe-defeated"]
    assert rows.count() == len(expected)
    assert all(
        t.startswith("safe-defeated/") for t in rows.locator("td:nth-child(3)").all_inner_texts()
    )
    page.select_option("#f-category", "")
    page.select_option("#f-severity", "4")
    assert rows.count() == sum(1 for f in doc["findings"] if f["severity"] == "critical")
    page.select_option("#f-severity", "0")
    page.uncheck("#f-suppressed")
    assert rows.count() == len(doc["findings"]) - 1
    page.check("#f-suppressed")
    page.fill("#f-text", "securec.h")
    assert rows.count() == sum(1 for f in doc["findings"] if "securec.h" in f["path"])
    page.fill("#f-text", "")
    row = rows.first
    row.locator("summary").click()
    assert doc["findings"][0]["evidence"].strip() in row.locator("pre").inner_text()
    assert "accepted" in row.inner_text()
    shot = _artifact(tmp_path, "report-example.png")
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert errors == []
    page.close()


@pytest.fixture(scope="module")
def large_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real evaluation with FILES * CALLS unsafe calls: at least 100,000 findings."""
    root = tmp_path_factory.mktemp("large")
    src = root / "src"
    src.mkdir()
    body = "".join(f"    strcpy(a, b{i});\n" for i in range(CALLS))
    for n in range(FILES):
        (src / f"f{n:03}.c").write_text(f"/* file {n} */\nvoid f{n}(char *a)\n{{\n{body}}}\n")
    run = run_evaluation(src, root / "out", jobs=2)
    shutil.rmtree(src)
    return run.out


def test_paging_reaches_the_last_of_100000_findings(
    browser: Any, large_report: Path, tmp_path: Path
) -> None:
    doc = json.loads((large_report / "evaluation.json").read_text(encoding="utf-8"))
    total = len(doc["findings"])
    assert total >= 100_000
    report = large_report / "report.html"
    page, errors, seconds = _open(browser, report)
    print(f"report.html with {total} findings: {report.stat().st_size / 2**20:.1f} MiB, "
          f"loaded and first page rendered in {seconds:.2f} s")  # fmt: skip
    assert errors == []
    assert page.inner_text("#findings-total") == str(total)
    page.click("#f-last")
    last = page.locator(f"#finding-{total}")
    assert last.is_visible()
    final = doc["findings"][-1]
    assert f"{final['path']}:{final['start_line']}" in last.inner_text()
    assert page.locator("#findings-table tbody tr").last.get_attribute("id") == f"finding-{total}"
    page.click("#f-prev")
    assert page.locator(f"#finding-{total}").count() == 0
    page.fill("#f-text", "f099.c")
    in_file = sum(1 for f in doc["findings"] if f["path"] == "f099.c")
    assert in_file >= CALLS
    assert f"({in_file} shown)" in page.inner_text("#f-page")
    shot = _artifact(tmp_path, "report-100k.png")
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    assert errors == []
    page.close()
