"""Drives the console in headless Chromium (Debian's chromium and chromium-driver, python3-selenium).

Usage: console_browser.py PLAN.json. The plan names the console's URL, the two tokens (read from the plan
file, never printed), the seeded endpoints and dead letters, and where screenshots go. Prints one JSON
object: the checks that passed, the browser console's errors, and the first failure if any; exits 1 on a
failure.
"""
import http.server
import json
import sys
import threading
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait


class CheckFailed(Exception):
    pass


def main():
    plan = json.load(open(sys.argv[1]))
    base = plan["url"].rstrip("/")
    shots = plan["screenshots"]
    passed, console_errors = [], []

    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--no-first-run", "--disable-extensions"]:
        options.add_argument(argument)
    options.binary_location = plan.get("chromium", "/usr/bin/chromium")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(plan.get("chromedriver", "/usr/bin/chromedriver")), options=options)
    wait = WebDriverWait(driver, 20)

    def check(name, condition, detail=""):
        if not condition:
            raise CheckFailed(f"{name}: {detail}")
        passed.append(name)

    def collect_console(page, ignore=False):
        for entry in driver.get_log("browser"):
            if entry.get("level") == "SEVERE" and not ignore:
                console_errors.append({"page": page, "message": entry.get("message", "")[:300]})

    def screenshot(name):
        driver.save_screenshot(f"{shots}/{name}.png")

    def text_of(selector):
        return driver.find_element(By.CSS_SELECTOR, selector).text

    def no_secret(page):
        source = driver.page_source
        for secret in plan["secrets"]:
            check(f"{page} shows no secret", secret not in source, "a token is on the page")

    def sign_in(token):
        driver.get(base + "/login")
        field = wait.until(EC.presence_of_element_located((By.ID, "token")))
        field.send_keys(token)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait.until(EC.url_to_be(base + "/"))

    def wait_text(selector, needle, timeout=20):
        WebDriverWait(driver, timeout).until(
            lambda d: needle in d.find_element(By.CSS_SELECTOR, selector).text)

    failure = None
    try:
        # The sign-in page, and a wrong token.
        driver.get(base + "/")
        check("unsigned visit goes to the sign-in page", driver.current_url.startswith(base + "/login"), driver.current_url)
        screenshot("signin")
        driver.find_element(By.ID, "token").send_keys("not-the-right-token-at-all")
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.error")))
        check("a wrong token is refused", "does not sign in" in text_of("p.error"))
        collect_console("signin")

        sign_in(plan["adminToken"])

        # Overview.
        wait_text("main", "Connected")
        wait_text(".cards", f"{plan['connected']} of {plan['enabled']}")
        check("overview counts", True)
        check("overview chart drawn", len(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect")) > 0, "no bar in the chart")
        WebDriverWait(driver, 20).until(lambda d: "live" in d.find_element(By.ID, "live").get_attribute("class").split())
        check("live updates connect", text_of("#live").endswith("live"))
        # A hidden tab closes its stream; shown again, it reopens.
        driver.execute_script("Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
                              "document.dispatchEvent(new Event('visibilitychange'));")
        wait_text("#live", "paused", 5)
        check("live updates pause while the tab is hidden", True)
        driver.execute_script("Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});"
                              "document.dispatchEvent(new Event('visibilitychange'));")
        WebDriverWait(driver, 20).until(lambda d: "live" in d.find_element(By.ID, "live").get_attribute("class").split())
        check("live updates resume when shown", True)
        no_secret("overview")
        screenshot("overview")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        check("dark scheme applies", background != "rgb(255, 255, 255)", background)
        screenshot("overview-dark")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
        collect_console("overview")

        # Endpoints: every row, then search and the state filter.
        driver.get(base + "/endpoints")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tbody tr")) == plan["endpointRows"])
        check("endpoints table lists every endpoint", True)
        search = driver.find_element(By.ID, "search")
        search.send_keys(plan["searchName"])
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tbody tr")) == 1)
        check("endpoints search narrows the table", plan["searchName"] in text_of("tbody"))
        driver.get(base + "/endpoints")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tbody tr")) == plan["endpointRows"])
        Select(driver.find_element(By.ID, "state-filter")).select_by_value("missing")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tbody tr")) == plan["missingRows"])
        check("endpoints state filter", "missing" in text_of("tbody"))
        check("the filter is in the address", "state=missing" in driver.current_url, driver.current_url)
        no_secret("endpoints")
        screenshot("endpoints")
        driver.set_window_size(390, 844)
        driver.get(base + "/endpoints")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tbody tr")) == plan["endpointRows"])
        width = driver.execute_script("return document.documentElement.scrollWidth")
        check("endpoints fit a phone's width (the table scrolls inside its box)", width <= 400, f"page is {width}px wide")
        screenshot("endpoints-phone")
        driver.set_window_size(1280, 900)
        collect_console("endpoints")

        # One endpoint: results and tools, never its address.
        driver.get(base + "/endpoints/" + plan["toolEndpoint"])
        wait_text("main", plan["toolName"])
        check("endpoint page lists its bound tools", plan["toolName"] in driver.page_source)
        check("endpoint page lists its results", "recovered" in text_of("main"))
        no_secret("endpoint")
        screenshot("endpoint")
        collect_console("endpoint")

        # Workers and queues.
        driver.get(base + "/workers")
        wait_text("main", plan["worker"])
        check("workers page lists the worker", True)
        screenshot("workers")
        collect_console("workers")
        driver.get(base + "/queues")
        wait_text("main", plan["jobsQueue"])
        check("queues page lists the jobs queue", True)
        check("queues page draws its history", len(driver.find_elements(By.CSS_SELECTOR, "svg.chart")) == 1)
        screenshot("queues")
        collect_console("queues")

        # Dead letters: retry one from the page, after the confirmation.
        driver.get(base + "/dead")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tbody tr")) == plan["deadRows"])
        screenshot("dead")
        box = driver.find_element(By.CSS_SELECTOR, f"input[data-server='{plan['retryServer']}']")
        box.click()
        driver.find_element(By.ID, "retry-selected").click()
        alert = WebDriverWait(driver, 10).until(EC.alert_is_present())
        check("retry asks for confirmation", "Retry" in alert.text, alert.text)
        alert.accept()
        wait_text("#action-result", "Retried 1 dead letters")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tbody tr")) == plan["deadRows"] - 1)
        check("a dead letter retried from the page leaves the dead queue", True)
        screenshot("dead-after-retry")
        collect_console("dead")

        # A cross-site form post (another origin, the signed-in browser) is refused.
        evil = start_evil_site(base)
        driver.get(evil)
        WebDriverWait(driver, 20).until(lambda d: d.current_url.startswith(base))
        time.sleep(0.5)
        body = driver.find_element(By.TAG_NAME, "body").text
        check("a cross-site POST is refused", "refused" in body, body[:200])
        collect_console("cross-site", ignore=True)

        # A viewer reads but has no retry or purge.
        driver.get(base + "/dead")
        driver.find_element(By.CSS_SELECTOR, "form.signout button").click()
        wait.until(EC.url_contains("/login"))
        sign_in(plan["viewerToken"])
        driver.get(base + "/dead")
        wait_text("main", "Read-only sign-in")
        check("a viewer has no retry button", len(driver.find_elements(By.ID, "retry-selected")) == 0)
        screenshot("dead-viewer")
        collect_console("viewer")
    except (CheckFailed, TimeoutException) as error:
        failure = f"{type(error).__name__}: {error}".strip()
        try:
            screenshot("failure")
            failure += f" (at {driver.current_url})"
        except Exception:
            pass
    finally:
        driver.quit()
    result = {"passed": passed, "consoleErrors": console_errors, "failure": failure}
    print(json.dumps(result))
    sys.exit(1 if failure or console_errors else 0)


def start_evil_site(console):
    """Serves, on another origin, a page whose form posts a purge of every dead letter to the console."""
    page = (f'<!doctype html><html><body><form id="f" method="post" action="{console}/api/dead/purge">'
            '<input type="hidden" name="scope" value="all"></form>'
            '<script>document.getElementById("f").submit();</script></body></html>').encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # "localhost" is another origin than the console's 127.0.0.1.
    return f"http://localhost:{server.server_address[1]}/"


if __name__ == "__main__":
    main()
