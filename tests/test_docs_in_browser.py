"""The two HTML pages in a real browser (headless Chromium), under their Content-Security-Policy: /docs
renders every operation of the spec with nothing blocked, and the data dictionary shows its tables."""

import json
import os
import shutil
import subprocess
import urllib.request

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def browse(url, budget_ms):
    """The page's DOM after its scripts ran, and what the browser logged (CSP violations among it)."""
    if CHROMIUM is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.stdout, result.stderr


def test_the_docs_page_renders_every_operation_with_nothing_blocked(live_server):
    with urllib.request.urlopen(f"{live_server}/api/v1/openapi.json") as response:
        spec = json.load(response)
    operations = [
        operation for path in spec["paths"].values() for operation in path.values() if isinstance(operation, dict)
    ]
    tags = {tag for operation in operations for tag in operation.get("tags", [])}
    dom, log = browse(f"{live_server}/docs", 15000)
    assert "Failed to load API definition" not in dom
    assert dom.count('class="opblock-tag"') == len(tags), dom[:2000]
    assert "Content Security Policy" not in log, [line for line in log.splitlines() if "Security Policy" in line]


def test_the_data_dictionary_renders_with_nothing_blocked(live_server):
    dom, log = browse(f"{live_server}/docs/data-dictionary", 5000)
    assert "<table" in dom and "events" in dom
    assert "Content Security Policy" not in log, [line for line in log.splitlines() if "Security Policy" in line]


def test_the_document_and_record_pages_render_with_nothing_blocked(live_server):
    dom, log = browse(f"{live_server}/api/v1/sources/modern-warfare-newsletter/document?format=html", 3000)
    assert dom.count("<mark") > 50 and 'id="document"' in dom
    assert "Content Security Policy" not in log, [line for line in log.splitlines() if "Security Policy" in line]
    dom, log = browse(f"{live_server}/api/v1/claims/beijing-fully-aware-of-operation", 3000)
    assert 'class="in-document"' in dom
    assert "Content Security Policy" not in log, [line for line in log.splitlines() if "Security Policy" in line]


CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    """Headless Chromium driven through chromium-driver (Selenium): a user's clicks."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
        pytest.skip("chromium or chromium-driver is not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,700"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_a_click_on_a_claim_lands_on_its_excerpt_marked_in_the_article(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{live_server}/api/v1/claims/drones-reached-izhevsk-facility")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("The drones")
    link = browser.find_element(By.CSS_SELECTOR, "ul.sources a.in-document")
    excerpt = browser.find_element(By.CSS_SELECTOR, "ul.sources blockquote").text
    anchor = link.get_attribute("href").split("#", 1)[1]
    link.click()
    WebDriverWait(browser, 10).until(lambda driver: driver.execute_script("return location.hash") == f"#{anchor}")
    assert "/api/v1/sources/modern-warfare-newsletter/document" in browser.current_url
    target = browser.execute_script("return document.querySelector(':target')")
    assert target.tag_name == "mark" and target.get_attribute("id") == anchor
    assert target.text and excerpt.startswith(target.text)
    # Highlighted as the target, and scrolled into view.
    assert browser.execute_script("return getComputedStyle(arguments[0]).outlineStyle", target) == "solid"
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", target)
    assert -1 <= top < browser.execute_script("return window.innerHeight")  # sub-pixel scrolling
    # From the mark, its numbered citation leads back to the claim's page.
    number = target.get_attribute("data-citation")
    browser.find_element(By.CSS_SELECTOR, f"#citation-{number} a.record").click()
    WebDriverWait(browser, 10).until(lambda driver: "/api/v1/" in driver.current_url and "#" not in driver.current_url)
    assert browser.current_url.endswith("/api/v1/claims/drones-reached-izhevsk-facility")
