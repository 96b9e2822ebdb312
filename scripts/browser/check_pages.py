"""Opens the server's pages in headless Chromium and checks what a person would see.

Run by scripts/check-browser.sh, which starts the server; by hand:

    /usr/bin/python3 scripts/browser/check_pages.py --base-url http://127.0.0.1:8000 --screenshots .build/browser

For every page in PAGES it loads the page, waits until the element that proves it rendered is
there, checks the texts it must show, and then fails the page when:
  - the browser console logged an error (a script that threw, a file that did not load);
  - the page asked for anything outside the server's own origin (a CDN, a font service): the pages
    must work on a machine without internet access.
A screenshot of each page is saved (its path printed), failing or not.

To add a page, append a Page to PAGES: its path, a name for the screenshot, the CSS selector of an
element that is there only once the page has rendered, and the texts it must show. A page that
needs more (signing in first, clicking) gives `prepare` and/or `check` callables that receive the
driver and the base URL.

Needs Debian's chromium, chromium-driver and python3-selenium
(scripts/install-dependencies.sh --services); nothing is downloaded.
"""

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple
from urllib.parse import urlsplit

# Selenium Manager would otherwise try to fetch a driver and send statistics over the network.
os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BINARY", "/usr/bin/chromedriver")
# How long a page may take to render before it counts as not rendering at all: a bound on a hang,
# not a performance check (a debug server on two busy cores can be slow).
RENDER_TIMEOUT_SECONDS = 30


@dataclass
class Page:
    """One page to open, and what proves that it rendered."""

    path: str
    name: str
    ready: str
    """CSS selector of an element that exists only once the page has rendered."""
    texts: List[Tuple[str, str]] = field(default_factory=list)
    """(CSS selector, text): some element matching the selector must contain the text."""
    prepare: Optional[Callable[[webdriver.Chrome, str], None]] = None
    """Runs before the page is opened (for instance, to sign in)."""
    check: Optional[Callable[[webdriver.Chrome, str], List[str]]] = None
    """Runs once the page has rendered; returns the problems it found."""


PAGES = [
    Page(
        path="/",
        name="front-page",
        ready="h1",
        texts=[("h1", "chat-server"), ("a[href='/apischema/']", "API documentation")],
    ),
    Page(
        path="/apischema/",
        name="apischema",
        # Swagger UI builds one of these per operation once it has read the OpenAPI document.
        ready=".opblock-summary-path[data-path='/api/rest-auth/login/']",
        texts=[
            (".info .title", "ChatBackend API"),
            (".opblock-summary-path", "/api/chat/mychats/"),
            (".opblock-tag", "sockets"),
        ],
    ),
]


def new_driver() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # As root in a container Chromium needs --no-sandbox; /dev/shm there is often too small.
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1600"):
        options.add_argument(argument)
    # The console (browser) and the network events (performance) are read after each page.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def console_errors(driver: webdriver.Chrome) -> List[str]:
    """The console's error lines since the last call (reading the log empties it)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def requested_urls(driver: webdriver.Chrome) -> List[str]:
    """Every URL the page asked for since the last call, from the DevTools network events."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def foreign(urls: List[str], base_url: str) -> List[str]:
    """The URLs outside the server's origin (data: and blob: URLs stay in the page)."""
    origin = urlsplit(base_url)[:2]
    return [url for url in urls if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url)[:2] != origin]


def check_page(driver: webdriver.Chrome, base_url: str, page: Page, screenshots: str) -> List[str]:
    problems: List[str] = []
    # Start from a clean slate: what an earlier page logged is not this page's.
    console_errors(driver)
    requested_urls(driver)
    if page.prepare:
        page.prepare(driver, base_url)
    driver.get(base_url + page.path)
    try:
        WebDriverWait(driver, RENDER_TIMEOUT_SECONDS).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, page.ready))
        )
    except TimeoutException:
        problems.append(f"did not render: no element {page.ready!r} after {RENDER_TIMEOUT_SECONDS} s")
    else:
        for selector, text in page.texts:
            shown = [element.text for element in driver.find_elements(By.CSS_SELECTOR, selector)]
            if not any(text in each for each in shown):
                problems.append(f"no {selector!r} shows {text!r} (shown: {shown[:5]})")
        if page.check:
            problems.extend(page.check(driver, base_url))

    path = os.path.abspath(os.path.join(screenshots, f"{page.name}.png"))
    if driver.save_screenshot(path):
        print(f"   screenshot: {path}")
    else:
        problems.append(f"the screenshot {path} could not be saved")
    problems.extend(f"console error: {line}" for line in console_errors(driver))
    problems.extend(f"asked for something outside the server: {url}" for url in foreign(requested_urls(driver), base_url))
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--screenshots", required=True, help="folder for the screenshots (created)")
    parser.add_argument("--only", action="append", default=[], help="check only the page of this name (repeatable)")
    arguments = parser.parse_args()
    base_url = arguments.base_url.rstrip("/")
    os.makedirs(arguments.screenshots, exist_ok=True)

    pages = [page for page in PAGES if not arguments.only or page.name in arguments.only]
    if not pages:
        print(f"no page is named {arguments.only}; the pages are {[page.name for page in PAGES]}", file=sys.stderr)
        return 2
    try:
        driver = new_driver()
    except WebDriverException as error:
        print(f"Chromium could not be started ({CHROMIUM}, {CHROMEDRIVER}): {error.msg}", file=sys.stderr)
        return 2
    failed = 0
    try:
        for page in pages:
            print(f"-- {page.path} ({page.name})")
            problems = check_page(driver, base_url, page, arguments.screenshots)
            for problem in problems:
                print(f"   FAILED: {problem}")
            if problems:
                failed += 1
            else:
                print("   ok")
    finally:
        driver.quit()
    print(f"{len(pages) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
