"""A real headless Chromium for the dashboard tests, driven through selenium from async tests.

Selenium's calls block, and the devhost under test serves from the test's event loop, so
every call runs in a worker thread (``asyncio.to_thread``).  Chromium and chromedriver come
from Debian (``apt-get install chromium chromium-driver``); selenium is given both paths, so
it never downloads a browser or a driver.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1400,1000",
)


def chromium_paths() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def start_chromium(profile: Path) -> Any:
    """A headless Chromium with a fresh profile; skips the test when none is installed."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -r requirements-dev.txt)")
    paths = chromium_paths()
    if paths is None:
        pytest.skip("no browser: apt-get install chromium chromium-driver (.ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.unhandled_prompt_behavior = "ignore"  # confirm() dialogs wait for answer_confirm()
    return webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)


class Browser:
    """Async facade over one selenium driver; screenshots go to ``shots``."""

    def __init__(self, driver: Any, shots: Path, suffix: str = "") -> None:
        self.driver = driver
        self.shots = shots
        self.suffix = suffix

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def open(self, url: str) -> None:
        await self.call(self.driver.get, url)

    async def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return await self.call(self.driver.find_elements, By.CSS_SELECTOR, css)

    def text_now(self, css: str) -> str:
        """The rendered text of the first match, read in one step (auto-refresh swaps nodes)."""
        script = "const e = document.querySelector(arguments[0]); return e ? (e.innerText ?? e.textContent) : '';"
        return str(self.driver.execute_script(script, css)).strip()

    async def text(self, css: str) -> str:
        return await self.call(self.text_now, css)

    async def click(self, css: str) -> None:
        found = await self.all(css)
        assert found, f"nothing matches {css}"
        await self.call(found[0].click)

    async def type(self, css: str, text: str) -> None:
        found = await self.all(css)
        assert found, f"nothing matches {css}"
        await self.call(found[0].clear)
        await self.call(found[0].send_keys, text)

    async def answer_confirm(self, accept: bool = True) -> str:
        """Wait for the page's ``confirm()`` dialog, answer it, return its text."""

        def answer() -> str:
            alert = self.driver.switch_to.alert
            message = alert.text
            alert.accept() if accept else alert.dismiss()
            return message

        return await self.until(lambda: _try(answer), "a confirm dialog")

    async def until(self, probe: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
        """Poll ``probe`` (run in a thread) until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.call(probe)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    async def until_css(self, css: str, what: str = "", count: int = 1) -> list[Any]:
        from selenium.webdriver.common.by import By

        return await self.until(
            lambda: (found := self.driver.find_elements(By.CSS_SELECTOR, css)) and len(found) >= count and found,
            what or css,
        )

    async def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        """Save a PNG (the whole page height when ``full_page``); returns its path."""
        path = self.shots / f"{name}{self.suffix}.png"

        def shoot() -> None:
            if full_page:
                height = self.driver.execute_script("return document.documentElement.scrollHeight")
                self.driver.set_window_size(1400, max(1000, min(int(height) + 120, 6000)))
            self.driver.save_screenshot(str(path))
            self.driver.set_window_size(1400, 1000)

        await self.call(shoot)
        return path


def _try(fn: Callable[[], Any]) -> Any:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        return fn()
    except NoAlertPresentException:
        return None


@pytest.fixture(scope="session")
def chromium_driver() -> Iterator[Any]:
    profile = Path(tempfile.mkdtemp(prefix="devhost-chromium-"))
    driver = start_chromium(profile)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="devhost-dashboard-shots-"))
    print(f"dashboard screenshots: {folder}")
    return folder


@pytest.fixture
def browser(chromium_driver: Any, screenshot_dir: Path, request: pytest.FixtureRequest) -> Browser:
    chromium_driver.delete_all_cookies()
    callspec = getattr(request.node, "callspec", None)
    return Browser(chromium_driver, screenshot_dir, f"-{callspec.id}" if callspec else "")
