"""Open the reports in headless Chromium (Debian's package, installed by .ci/run) with Playwright.

Checks: no console error, no request other than file:// (and embedded data:), no code cell, every
image decoded, the executive summary present, and injected markup in a unit name and in comments
does not run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .conftest import EVIL_UNIT

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-default-apps"]


def _chromium() -> str:
    for name in (os.environ.get("PMO_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise RuntimeError("no Chromium found: install Debian's 'chromium' package (.ci/run does) or set PMO_CHROMIUM")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _open(browser, path: Path, screenshot: Path | None = None) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    console, requests = [], []
    page.on("console", lambda m: console.append((m.type, m.text)))
    page.on("pageerror", lambda e: console.append(("pageerror", str(e))))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.resolve().as_uri(), wait_until="load")
    info = page.evaluate("""() => ({
        pwned: window.__pwned === undefined ? null : window.__pwned,
        images: Array.from(document.images).map(i => ({complete: i.complete, width: i.naturalWidth})),
        injected: document.querySelectorAll('img[src="x"], script').length,
        code: Array.from(document.querySelectorAll('.jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt'))
              .filter(e => e.offsetParent !== null).length,
        text: document.body.innerText,
        h2: Array.from(document.querySelectorAll('h2')).map(h => h.innerText),
    })""")
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return {**info, "console": console, "requests": requests}


def _common_checks(info: dict) -> None:
    assert not [c for c in info["console"] if c[0] in ("error", "pageerror")], info["console"]
    assert all(url.startswith(("file://", "data:")) for url in info["requests"]), info["requests"]
    assert info["pwned"] is None and info["injected"] == 0
    assert all(img["complete"] and img["width"] > 0 for img in info["images"])
    assert info["code"] == 0


def test_index_page(browser, small_batch):
    info = _open(browser, small_batch.index)
    _common_checks(info)
    assert EVIL_UNIT in info["text"]  # shown as text, not markup
    assert "Business units" in info["h2"]


def test_unit_report(browser, small_batch):
    entry = small_batch.manifest["units"][EVIL_UNIT]
    shot = ROOT / "outputs" / "browser" / "unit_report.png"
    info = _open(browser, small_batch.out / entry["html"], screenshot=shot)
    _common_checks(info)
    assert len(info["images"]) >= 6
    assert info["h2"][0] == "Scorecard" and info["h2"][-1] == "Method and data quality"
    assert f"{EVIL_UNIT} is at" in info["text"]  # the brief's verdict, the unit's name as text
    assert "great" in info["text"] and "<script>window.__pwned=3</script>" in info["text"]
    assert shot.exists() and shot.stat().st_size > 10_000


def _reports(batch) -> list[Path]:
    return [batch.out / "organisation.html", *(batch.out / e["html"] for e in batch.manifest["units"].values())]


def test_the_brief_fits_the_first_screen(browser, small_batch):
    """At 1280 x 900 the executive brief ends within the first screen, for the organisation and
    every unit; each report has a readable title and a working link back to the index."""
    for path in _reports(small_batch):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(path.resolve().as_uri(), wait_until="load")
        bottom = page.evaluate("document.querySelector('.pmo-brief').getBoundingClientRect().bottom")
        assert 0 < bottom <= 900, (path.name, bottom)
        title = page.title()
        assert title.startswith("PMO Integration Maturity: Test <Org>") and path.stem not in title, title
        href = page.evaluate("document.querySelector('.pmo-back a').getAttribute('href')")
        assert (path.parent / href).resolve() == small_batch.index.resolve()
        page.close()


def test_printing_gives_a4_pages_with_the_brief_on_page_one(browser, small_batch, tmp_path):
    path = small_batch.out / "organisation.html"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.emulate_media(media="print")
    # A4 is 297 mm tall; the print stylesheet's margins are 14 mm: 269 mm of content, 1017 CSS px.
    bottom = page.evaluate("document.querySelector('.pmo-brief').getBoundingClientRect().bottom")
    assert 0 < bottom <= 269 / 25.4 * 96, bottom
    kept = page.evaluate("""() => [...document.querySelectorAll('.pmo-chart, .pmo-table tr, .pmo-brief')]
        .map(e => getComputedStyle(e).breakInside)""")
    assert kept and set(kept) == {"avoid"}  # no chart, table row or brief cut in two
    assert page.evaluate("getComputedStyle(document.querySelector('.pmo-back')).display") == "none"
    pdf = page.pdf(format="A4", print_background=True)
    page.close()
    (tmp_path / "organisation.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + \
        pdf.count(b"/Type/Page") >= 3


def test_portfolio_report(browser, small_batch):
    info = _open(browser, small_batch.out / "portfolio.html")
    _common_checks(info)
    assert info["h2"][0] == "Portfolio summary" and len(info["images"]) >= 2
