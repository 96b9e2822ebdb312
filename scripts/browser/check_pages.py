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
import secrets
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple
from urllib.parse import urlsplit

# Selenium Manager would otherwise try to fetch a driver and send statistics over the network.
os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BINARY", "/usr/bin/chromedriver")
# How long a page may take to render before it counts as not rendering at all: a bound on a hang,
# not a performance check (a debug server on two busy cores can be slow).
RENDER_TIMEOUT_SECONDS = 30
# How long a step of a scenario (a message arriving, a badge changing) may take.
STEP_TIMEOUT_SECONDS = 20
# The folder for screenshots (set by main), for scenarios that take more than the page's own.
SCREENSHOTS = "."
# The fake Google issuer the server trusts (--google-issuer), if any.
GOOGLE_ISSUER: Optional[str] = None


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
    needs_google: bool = False
    """Checked only with --google-issuer (the server trusts that fake issuer), whose pages the
    browser may then visit too."""


# ---- the web app (/app/): two people, each in their own browser --------------------------------

PASSWORD = "Pr0be-pass-2020"


class StepFailed(Exception):
    pass


def wait_for(driver: webdriver.Chrome, what: str, condition, timeout: float = STEP_TIMEOUT_SECONDS):
    """Waits until `condition(driver)` is truthy and returns it; fails the step as `what` otherwise."""

    def attempt(driver):
        try:
            return condition(driver)
        except StaleElementReferenceException:
            return False

    try:
        return WebDriverWait(driver, timeout).until(attempt)
    except TimeoutException:
        raise StepFailed(f"{what}: not after {timeout} s") from None


def element(driver: webdriver.Chrome, selector: str, what: str = ""):
    """The first visible element matching `selector`, once there is one."""

    def visible(driver):
        return next((each for each in driver.find_elements(By.CSS_SELECTOR, selector) if each.is_displayed()), None)

    return wait_for(driver, what or f"no visible {selector!r}", visible)


def with_text(driver: webdriver.Chrome, selector: str, text: str, what: str):
    """The first element matching `selector` whose text contains `text` (as typed: no HTML)."""

    def found(driver):
        return next((each for each in driver.find_elements(By.CSS_SELECTOR, selector) if text in each.get_attribute("textContent")), None)

    return wait_for(driver, what, found)


def sign_up(driver: webdriver.Chrome, base_url: str, username: str) -> None:
    driver.get(base_url + "/app/")
    element(driver, "#signup-form", f"{username}: the sign-up form")
    for name, value in (("email", f"{username}@example.com"), ("username", username), ("password1", PASSWORD), ("password2", PASSWORD)):
        driver.find_element(By.CSS_SELECTOR, f"#signup-form input[name={name}]").send_keys(value)
    driver.find_element(By.CSS_SELECTOR, "#signup-form button[type=submit]").click()
    with_text(driver, "#me-name", username, f"{username}: signed in after signing up")
    element(driver, "#connection.online", f"{username}: the user socket is open")


def chat_item(driver: webdriver.Chrome, name: str, what: str):
    return with_text(driver, "#chats .chat-item .name", name, what)


def unread_badge(driver: webdriver.Chrome, chat_name: str) -> str:
    """The unread count shown beside a chat ("" when none is shown)."""
    for item in driver.find_elements(By.CSS_SELECTOR, "#chats .chat-item"):
        if chat_name in item.find_element(By.CSS_SELECTOR, ".name").get_attribute("textContent"):
            badge = item.find_element(By.CSS_SELECTOR, ".unread")
            return badge.get_attribute("textContent") if badge.is_displayed() else ""
    return "(no chat)"


def send_message(driver: webdriver.Chrome, text: str) -> None:
    box = element(driver, "#composer-text")
    box.send_keys(text)
    driver.find_element(By.CSS_SELECTOR, "#composer button[type=submit]").click()


# Put in Alice's page before its own script runs (through DevTools, which the page's CSP does not
# govern): the sockets the app opens are kept in window.__sockets, so the check can drop one, and
# while window.__offline is true a new socket "fails" at once (closes without connecting), as when
# the network is gone, without the console error a real failed connection logs.
SOCKET_SWITCH = """
(() => {
  const Real = window.WebSocket;
  window.__sockets = [];
  window.__offline = false;
  function Switchable(url, protocols) {
    if (window.__offline) {
      const fake = new EventTarget();
      fake.readyState = Real.CLOSED;
      fake.send = () => {};
      fake.close = () => {};
      setTimeout(() => fake.dispatchEvent(new Event("close")), 50);
      return fake;
    }
    const socket = new Real(url, protocols);
    window.__sockets.push(socket);
    return socket;
  }
  Switchable.prototype = Real.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Switchable[name] = Real[name];
  window.WebSocket = Switchable;
})();
"""


def count_texts(driver: webdriver.Chrome, selector: str, text: str) -> int:
    return sum(1 for each in driver.find_elements(By.CSS_SELECTOR, selector) if each.get_attribute("textContent") == text)


def post_messages(base_url: str, token: str, chat_uuid: str, texts: List[str], client_prefix: str) -> None:
    """Sends each text to the chat over REST, as the token's user, in order; a 429 (the sender's
    message allowance) is waited out as its Retry-After says and the message sent again."""
    for number, text in enumerate(texts, 1):
        post = urllib.request.Request(
            f"{base_url}/api/chat/{chat_uuid}/messages/",
            data=json.dumps({"message": text, "client_id": f"{client_prefix}-{number}"}).encode(),
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            method="POST",
        )
        for _ in range(20):
            try:
                with urllib.request.urlopen(post, timeout=STEP_TIMEOUT_SECONDS) as answer:
                    if answer.status != 201:
                        raise StepFailed(f"sending {text!r} over REST answered {answer.status}")
                    break
            except urllib.error.HTTPError as error:
                if error.code != 429:
                    raise StepFailed(f"sending {text!r} over REST answered {error.code}") from None
                time.sleep(float(error.headers.get("Retry-After", "1")))
        else:
            raise StepFailed(f"sending {text!r} over REST: still 429 after 20 tries")


def two_people_chat(alice: webdriver.Chrome, base_url: str) -> List[str]:
    """Alice (this page's browser) and Bob (a second browser, its own session and storage) sign
    up, become friends through the page, and chat live; Bob's unread count moves while the chat
    is closed; edits and deletes reach the other side."""
    problems: List[str] = []
    suffix = secrets.token_hex(3)
    a, b = f"alice{suffix}", f"bob{suffix}"
    bob = new_driver()
    try:
        console_errors(bob)
        requested_urls(bob)
        alice.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": SOCKET_SWITCH})
        sign_up(alice, base_url, a)
        sign_up(bob, base_url, b)

        # Alice finds Bob and invites him; Bob sees the invitation and accepts it.
        element(alice, "#search-phrase").send_keys(b)
        alice.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()
        with_text(alice, "#search-results .person .name", b, "Alice finds Bob")
        element(alice, "#search-results .person .invite", "Alice's invite button").click()
        element(alice, "#search-results .invited", "Alice's invitation is sent")
        element(bob, "#invitations-refresh").click()
        with_text(bob, "#invitations .invitation .name", a, "Bob sees Alice's invitation")
        element(bob, "#invitations .invitation .accept").click()

        # Both have their private chat, named after the other, without reloading.
        chat_item(bob, a, "Bob's chat with Alice is listed").click()
        chat_item(alice, b, "Alice's chat with Bob is listed (a live chat event)").click()
        with_text(alice, "#chat-title", b, "Alice's open chat is titled Bob")
        with_text(bob, "#chat-title", a, "Bob's open chat is titled Alice")

        # Each sends; the other sees it live. Markup in a message stays text.
        hello = "Hello Bob <b>bold?</b> & <img src=x>"
        send_message(alice, hello)
        with_text(bob, "#messages .message .text", hello, "Bob sees Alice's message live, as typed")
        if bob.find_elements(By.CSS_SELECTOR, "#messages b, #messages img"):
            problems.append("a message's markup became HTML in Bob's window")
        with_text(alice, "#messages .message.mine:not(.pending) .text", hello, "Alice's message is acknowledged")

        element(bob, "#composer-text").send_keys("Hi")
        with_text(alice, "#typing", f"{b} is typing", "Alice sees Bob typing")
        element(bob, "#composer-text").send_keys(" Alice!")
        bob.find_element(By.CSS_SELECTOR, "#composer button[type=submit]").click()
        with_text(alice, "#messages .message .text", "Hi Alice!", "Alice sees Bob's reply live")
        wait_for(alice, "Bob's typing notice goes once his message came", lambda d: "typing" not in d.find_element(By.ID, "typing").text)

        # Alice closes the chat: Bob's next messages count as unread for her, live.
        element(alice, "#chat-close").click()
        element(alice, "#no-chat", "Alice's chat is closed")
        send_message(bob, "Are you there?")
        wait_for(alice, "Alice's unread count for Bob's chat is 1", lambda d: unread_badge(d, b) == "1")
        send_message(bob, "Still there?")
        wait_for(alice, "Alice's unread count for Bob's chat is 2", lambda d: unread_badge(d, b) == "2")
        if unread_badge(bob, a) != "":
            problems.append(f"Bob, with the chat open, shows an unread count: {unread_badge(bob, a)!r}")
        chat_item(alice, b, "Alice's chat with Bob").click()
        with_text(alice, "#messages .message .text", "Still there?", "Alice sees the messages she missed (history)")
        wait_for(alice, "opening the chat clears Alice's unread count", lambda d: unread_badge(d, b) == "")

        # Alice edits her message and Bob deletes his first: each sees the other's change live.
        mine = with_text(alice, "#messages .message.mine", hello, "Alice's own message")
        mine.find_element(By.CSS_SELECTOR, ".edit").click()
        edit = element(alice, "#messages .message.mine .edit-text")
        edit.clear()
        edit.send_keys("Hello Bob (edited by Alice)")
        alice.find_element(By.CSS_SELECTOR, "#messages .message.mine .edit-box button[type=submit]").click()
        with_text(bob, "#messages .message .text", "Hello Bob (edited by Alice)", "Bob sees Alice's edit live")
        with_text(bob, "#messages .message .edited", "(edited)", "Bob sees that it was edited")
        theirs = with_text(bob, "#messages .message.mine", "Are you there?", "Bob's own message")
        theirs.find_element(By.CSS_SELECTOR, ".delete").click()
        with_text(alice, "#messages .message.deleted .text", "message deleted", "Alice sees Bob's message deleted live")

        # Alice's socket drops and stays down a while; Bob writes meanwhile, and so does Alice. Once
        # back, her page resumes: she sees each of Bob's messages once, and hers goes out once.
        alice.execute_script("window.__offline = true; window.__sockets[window.__sockets.length - 1].close();")
        with_text(alice, "#connection", "reconnecting", "Alice's page sees its socket drop")
        missed = ["While you were away (1)", "While you were away (2)"]
        for text in missed:
            send_message(bob, text)
            with_text(bob, "#messages .message.mine:not(.pending) .text", text, f"Bob's {text!r} is acknowledged")
        send_message(alice, "Written offline")
        element(alice, "#messages .message.pending", "Alice's offline message waits, shown as pending")
        alice.execute_script("window.__offline = false;")
        element(alice, "#connection.online", "Alice's page reconnects")
        for text in missed:
            with_text(alice, "#messages .message .text", text, f"Alice gets {text!r}, missed while offline (resume)")
        with_text(bob, "#messages .message .text", "Written offline", "Bob gets Alice's offline message once she is back")
        wait_for(alice, "Alice's offline message is acknowledged", lambda d: not d.find_elements(By.CSS_SELECTOR, "#messages .message.pending"))
        for driver, who, text in [(alice, "Alice", missed[0]), (alice, "Alice", missed[1]), (bob, "Bob", "Written offline"), (alice, "Alice", "Written offline")]:
            shown = count_texts(driver, "#messages .message .text", text)
            if shown != 1:
                problems.append(f"{who} shows {text!r} {shown} times, not once")

        # A reload keeps Alice signed in (the token is in sessionStorage), her chat listed.
        alice.refresh()
        element(alice, "#connection.online", "Alice is still signed in after a reload")
        chat_item(alice, b, "Alice's chat with Bob is listed after a reload")

        # Bob signs out; Alice writes; Bob signs in through the form and sees one unread message.
        element(bob, "#signout").click()
        element(bob, "#signin-form", "Bob's page shows the sign-in form once he signs out")
        chat_item(alice, b, "Alice's chat with Bob").click()
        send_message(alice, "Bye Bob")
        with_text(alice, "#messages .message.mine:not(.pending) .text", "Bye Bob", "Alice's 'Bye Bob' is acknowledged")
        bob.find_element(By.CSS_SELECTOR, "#signin-form input[name=email]").send_keys(f"{b}@example.com")
        bob.find_element(By.CSS_SELECTOR, "#signin-form input[name=password]").send_keys(PASSWORD)
        bob.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
        element(bob, "#connection.online", "Bob is signed in again")
        wait_for(bob, "Bob, signed in again, sees 1 unread message from Alice", lambda d: unread_badge(d, a) == "1")
        chat_item(bob, a, "Bob's chat with Alice").click()
        with_text(bob, "#messages .message .text", "Bye Bob", "Bob reads Alice's 'Bye Bob'")
        wait_for(bob, "opening the chat clears Bob's unread count", lambda d: unread_badge(d, a) == "")

        # Alice makes a group and adds Bob; it appears in Bob's list live; his message there is
        # named after him in Alice's window; he renames it; he leaves and it goes from his list.
        team = f"Team {suffix}"
        element(alice, "#group-name").send_keys(team)
        alice.find_element(By.CSS_SELECTOR, "#group-form button[type=submit]").click()
        with_text(alice, "#chat-title", team, "Alice's new group is open")
        with_text(alice, "#member-select option", b, "Alice can add Bob to the group")
        Select(alice.find_element(By.ID, "member-select")).select_by_visible_text(b)
        alice.find_element(By.CSS_SELECTOR, "#member-form button[type=submit]").click()
        chat_item(bob, team, "the group appears in Bob's list once Alice adds him").click()
        with_text(bob, "#chat-title", team, "Bob's open chat is the group")
        send_message(bob, "Hi team")
        with_text(alice, "#messages .message .text", "Hi team", "Alice sees Bob's message in the group")
        with_text(alice, "#messages .message .author", b, "Bob's group message is named after him in Alice's window")
        # Bob renames the group; both windows show the new name live (the `chat` `updated` frame).
        team = f"Crew {suffix}"
        element(bob, "#rename-name").send_keys(team)
        bob.find_element(By.CSS_SELECTOR, "#rename-form button[type=submit]").click()
        with_text(alice, "#chat-title", team, "Alice's open group shows the name Bob gave it")
        chat_item(alice, team, "Alice's list shows the group's new name")
        with_text(bob, "#chat-title", team, "Bob's open group shows its new name")
        if bob.find_element(By.ID, "remove-form").is_displayed():
            problems.append("Bob, not the group's creator, is offered to remove members")
        element(bob, "#chat-leave").click()
        element(bob, "#no-chat", "Bob's group closes once he leaves")
        wait_for(bob, "the group goes from Bob's list", lambda d: unread_badge(d, team) == "(no chat)")
        with_text(alice, "#member-select option", b, "Alice may add Bob again once he left")
        if not any(b in each.get_attribute("textContent") for each in alice.find_elements(By.CSS_SELECTOR, "#messages .message .author")):
            problems.append("once Bob left, his group message is no longer named after him in Alice's window")
        # Alice, the group's creator, adds Bob again and then removes him: it leaves his list live.
        Select(alice.find_element(By.ID, "member-select")).select_by_visible_text(b)
        alice.find_element(By.CSS_SELECTOR, "#member-form button[type=submit]").click()
        chat_item(bob, team, "the group is back in Bob's list once Alice adds him again")
        with_text(alice, "#remove-select option", b, "Alice, the creator, may remove Bob")
        Select(alice.find_element(By.ID, "remove-select")).select_by_visible_text(b)
        alice.find_element(By.CSS_SELECTOR, "#remove-form button[type=submit]").click()
        wait_for(bob, "the group goes from Bob's list once Alice removes him", lambda d: unread_badge(d, team) == "(no chat)")
        with_text(alice, "#member-select option", b, "Alice may add Bob again once she removed him")
        # Scroll-back: Alice writes 40 messages over REST (with her page's key) while Bob's chat
        # with her is closed; opening it shows the newest page, scrolling up brings the older ones
        # (history with before_seq), each once and in order.
        chat_uuid = chat_item(bob, a, "Bob's chat with Alice").find_element(By.XPATH, "..").get_attribute("data-chat")
        token = alice.execute_script("return sessionStorage.getItem('chat-token')")
        older = [f"Older message {number:02d}" for number in range(1, 41)]
        post_messages(base_url, token, chat_uuid, older, f"scroll-{suffix}")
        wait_for(bob, "Bob's unread count is 40 after Alice's 40 messages", lambda d: unread_badge(d, a) == "40")
        chat_item(bob, a, "Bob's chat with Alice").click()
        with_text(bob, "#messages .message .text", older[-1], "Bob sees the newest of the 40")

        def scrolled_back(driver):
            driver.execute_script("document.getElementById('messages-scroll').scrollTop = 0;")
            return count_texts(driver, "#messages .message .text", older[0]) > 0

        wait_for(bob, "scrolling up brings Bob the oldest of the 40 (history with before_seq)", scrolled_back)
        shown = [each.get_attribute("textContent") for each in bob.find_elements(By.CSS_SELECTOR, "#messages .message .text")]
        if [text for text in shown if text.startswith("Older message")] != older:
            problems.append(f"Bob's scroll-back does not show the 40 messages once each in order: {shown}")
        if shown.index(older[0]) == 0 or "Bye Bob" not in shown[: shown.index(older[0])]:
            problems.append(f"the messages before the 40 are not above them after scrolling back: {shown[:5]}")

        # Bob searches the chat: the best match comes first; closing the results hides them.
        element(bob, "#message-search-phrase").send_keys("older message 07")
        bob.find_element(By.CSS_SELECTOR, "#message-search-form button[type=submit]").click()
        first_found = element(bob, "#message-search-results .found .text", "Bob's search finds a message")
        if first_found.get_attribute("textContent") != "Older message 07":
            problems.append(f"Bob's search puts {first_found.get_attribute('textContent')!r} first, not 'Older message 07'")
        element(bob, "#message-search-close").click()
        wait_for(bob, "closing the search hides its results", lambda d: not d.find_element(By.ID, "message-search-results").is_displayed())

        # Bob changes his password, signs out, and signs in with the new one.
        new_password = PASSWORD + "-new"
        element(bob, "#password-box summary").click()
        for name, value in (("new_password1", new_password), ("new_password2", new_password)):
            element(bob, f"#password-form input[name={name}]").send_keys(value)
        bob.find_element(By.CSS_SELECTOR, "#password-form button[type=submit]").click()
        with_text(bob, "#password-note", "saved", "Bob's new password is saved")
        element(bob, "#signout").click()
        element(bob, "#signin-form", "Bob's page shows the sign-in form")
        typed = [each.get_attribute("name") for each in bob.find_elements(By.CSS_SELECTOR, "#auth input") if each.get_attribute("value")]
        if typed:
            problems.append(f"after signing out, the page still holds what was typed before in {typed}")
        bob.find_element(By.CSS_SELECTOR, "#signin-form input[name=email]").send_keys(f"{b}@example.com")
        bob.find_element(By.CSS_SELECTOR, "#signin-form input[name=password]").send_keys(new_password)
        bob.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
        element(bob, "#connection.online", "Bob signs in with his new password")

        # Alice's socket is down while 510 messages are written to her open chat with Bob: more
        # than a resume replays (500). Back online, the chat shows the newest without a gap.
        chat_item(alice, b, "Alice's chat with Bob").click()
        with_text(alice, "#messages .message .text", older[-1], "Alice's chat with Bob shows the newest")
        alice.execute_script("window.__offline = true; window.__sockets[window.__sockets.length - 1].close();")
        with_text(alice, "#connection", "reconnecting", "Alice's page sees its socket drop again")
        flood = [f"Flood {number:03d}" for number in range(1, 511)]
        post_messages(base_url, token, chat_uuid, flood, f"flood-{suffix}")
        alice.execute_script("window.__offline = false;")
        element(alice, "#connection.online", "Alice's page reconnects after the flood")
        with_text(alice, "#messages .message .text", flood[-1], "Alice sees the newest of the 510 (resume, truncated)")

        def shown_seqs(driver):
            seqs = sorted(int(each.get_attribute("data-seq")) for each in driver.find_elements(By.CSS_SELECTOR, "#messages .message[data-seq]"))
            return seqs if seqs and seqs == list(range(seqs[0], seqs[-1] + 1)) else None

        wait_for(alice, "after a truncated resume, the open chat shows its messages with no gap", shown_seqs)
    except StepFailed as failure:
        problems.append(str(failure))
    finally:
        problems.extend(save_screenshot(bob, "app-bob"))
        problems.extend(f"console error (Bob's browser): {line}" for line in console_errors(bob))
        problems.extend(f"Bob's browser asked for something outside the server: {url}" for url in foreign(requested_urls(bob), base_url))
        bob.quit()
    return problems


def save_screenshot(driver: webdriver.Chrome, name: str) -> List[str]:
    """Saves `name`.png among the screenshots; the problem, if it could not be saved."""
    path = os.path.abspath(os.path.join(SCREENSHOTS, f"{name}.png"))
    if driver.save_screenshot(path):
        print(f"   screenshot: {path}")
        return []
    return [f"the screenshot {path} could not be saved"]


def signed_out(driver: webdriver.Chrome, base_url: str) -> None:
    """Forgets whoever this browser signed in as (the app keeps its token in sessionStorage)."""
    driver.get(base_url + "/app/")
    driver.execute_script("sessionStorage.clear()")


def google_sign_in(driver: webdriver.Chrome, base_url: str) -> List[str]:
    """Gina signs in with Google: the button leads to the (fake) consent page, which asks for her
    e-mail and sends her back to the app signed in, the token gone from the address. A Google
    answer this tab did not ask for (a link someone sent) signs nobody in."""
    problems: List[str] = []
    name = f"gina{secrets.token_hex(3)}"
    try:
        element(driver, "#google-button", "the Sign in with Google button").click()
        email = element(driver, "#fake-google-email", "the fake issuer's consent page asks for the e-mail")
        email.clear()
        email.send_keys(f"{name}@example.com")
        driver.find_element(By.CSS_SELECTOR, "#fake-google-continue").click()
        with_text(driver, "#me-name", name, "Gina is signed in after the consent page")
        element(driver, "#connection.online", "Gina's user socket is open")
        if "id_token" in driver.current_url:
            problems.append(f"the ID token stays in the address: {driver.current_url}")
        problems.extend(save_screenshot(driver, "app-google-signed-in"))

        element(driver, "#signout").click()
        element(driver, "#auth:not([hidden])", "the sign-in forms after signing out")
        driver.get(base_url + "/app/?from=a-link#id_token=eyJhbGciOiJub25lIn0.eyJub25jZSI6IngifQ.&state=not-asked")
        with_text(driver, "#google-error", "not started on this page", "an answer the tab did not ask for is refused")
        if driver.find_element(By.CSS_SELECTOR, "#main").is_displayed():
            problems.append("an answer the tab did not ask for signed someone in")
    except StepFailed as failure:
        problems.append(str(failure))
    return problems


PAGES = [
    Page(
        # `chat-sim load --report-html`, written by check-browser.sh and opened from a file
        # (--base-url file://…): one self-contained page, nothing fetched, no script.
        path="/load-report.html",
        name="load-report",
        ready="svg",
        texts=[("h1", "Load report"), (".verdict", "PASS")],
    ),
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
    Page(
        path="/app/",
        # Alice's window; Bob's is app-bob.png.
        name="app-alice",
        # The script shows the sign-in and sign-up forms once it has run.
        ready="#auth:not([hidden])",
        texts=[("#signin-form h2", "Sign in"), ("#signup-form h2", "Sign up")],
        check=two_people_chat,
    ),
    Page(
        path="/app/",
        name="app-google",
        prepare=signed_out,
        # The button shows once the page has read app/config.json.
        ready="#google-signin:not([hidden])",
        texts=[("#google-button", "Sign in with Google")],
        check=google_sign_in,
        needs_google=True,
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


def check_page(driver: webdriver.Chrome, base_url: str, page: Page) -> List[str]:
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

    problems.extend(save_screenshot(driver, page.name))
    problems.extend(f"console error: {line}" for line in console_errors(driver))
    elsewhere = foreign(requested_urls(driver), base_url)
    if page.needs_google:
        elsewhere = [url for url in elsewhere if not url.startswith(GOOGLE_ISSUER + "/")]
    problems.extend(f"asked for something outside the server: {url}" for url in elsewhere)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--screenshots", required=True, help="folder for the screenshots (created)")
    parser.add_argument("--only", action="append", default=[], help="check only the page of this name (repeatable)")
    parser.add_argument("--skip", action="append", default=[], help="leave out the page of this name (repeatable)")
    parser.add_argument("--google-issuer", help="the fake Google issuer the server trusts (chat-sim fake-google), e.g. http://127.0.0.1:9090")
    arguments = parser.parse_args()
    base_url = arguments.base_url.rstrip("/")
    os.makedirs(arguments.screenshots, exist_ok=True)
    global SCREENSHOTS, GOOGLE_ISSUER
    SCREENSHOTS = arguments.screenshots
    GOOGLE_ISSUER = arguments.google_issuer.rstrip("/") if arguments.google_issuer else None

    pages = [page for page in PAGES if (not arguments.only or page.name in arguments.only) and page.name not in arguments.skip]
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
            if page.needs_google and not GOOGLE_ISSUER:
                print("   skipped: needs --google-issuer (a fake Google issuer the server trusts)")
                continue
            problems = check_page(driver, base_url, page)
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
