"""What the console's browser tests share: the integration suite's helpers (loaded from
tests/integration/conftest.py under another name, so the two suites run in one pytest session),
headless Chromium through Selenium, screenshots, and waiting for the page."""
import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

_INTEGRATION = Path(__file__).resolve().parents[1] / "integration" / "conftest.py"
_spec = importlib.util.spec_from_file_location("eventrouter_integration_support", _INTEGRATION)
support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(support)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
]
WAIT_SECONDS = 15


def artifacts_dir():
    """$EVENTROUTER_ARTIFACTS_DIR/console, else <repo>/build/test-artifacts/console."""
    root = os.environ.get("EVENTROUTER_ARTIFACTS_DIR")
    base = Path(root) if root else support.SOURCE_DIR / "build" / "test-artifacts"
    path = base / "console"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _missing_browser():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium Python package")
    return missing


def start_browser():
    """Headless Chromium with a fresh profile; returns (driver, profile folder). Without
    Chromium, chromedriver or Selenium the tests fail, or skip when
    EVENTROUTER_BROWSER_TESTS=optional."""
    missing = _missing_browser()
    if missing:
        message = ("browser tests need " + ", ".join(missing) +
                   ": scripts/deps.sh installs chromium, chromium-driver and python3-selenium")
        if os.environ.get("EVENTROUTER_BROWSER_TESTS") == "optional":
            pytest.skip(message)
        pytest.fail(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="eventrouter-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver, profile


def stop_browser(driver, profile):
    try:
        driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def wait_until(driver, condition, what, timeout=WAIT_SECONDS):
    """Polls `condition(driver)` until it returns something true; fails naming `what`, with
    the banner's text, when it does not within `timeout` seconds."""
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.time() + timeout
    while True:
        try:
            value = condition(driver)
        except StaleElementReferenceException:
            value = None
        if value:
            return value
        if time.time() >= deadline:
            banner = driver.execute_script(
                "const b = document.getElementById('error-banner');"
                "return b && !b.hidden ? b.textContent : '';")
            raise AssertionError(f"timed out waiting for {what}; banner: {banner!r}; "
                                 f"url: {driver.current_url}")
        time.sleep(0.1)


def screenshot(driver, name):
    """Saves the whole page (up to 2400 px tall) as <artifacts>/console/<name>.png."""
    height = driver.execute_script(
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight);")
    driver.set_window_size(1280, max(900, min(int(height) + 100, 2400)))
    time.sleep(0.2)
    path = artifacts_dir() / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 900)
    return path
