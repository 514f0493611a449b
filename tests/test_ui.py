"""`tfstyle ui`: the jobs behind the page, the server alone, and the page in a real browser
(headless Chromium driven by Selenium: Debian's chromium and chromium-driver)."""
import concurrent.futures
import os
import shutil
import socket
import time
import urllib.request

import numpy as np
import pytest
import soundfile as sf

from tfstyle.errors import TfstyleError
from tfstyle.ui import jobs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def workspace():
    space = jobs.Workspace()
    yield space
    space.close()


def test_workspace_prunes_old_jobs_and_closes_clean(workspace):
    old, new = workspace.job(), workspace.job()
    open(os.path.join(old, "out.wav"), "wb").close()
    past = time.time() - 2 * workspace.keep_seconds
    os.utime(old, (past, past))
    workspace.prune()
    assert not os.path.exists(old) and os.path.isdir(new)
    workspace.close()
    assert not os.path.exists(workspace.root)


def test_bad_uploads_give_readable_messages(workspace, tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    short = tmp_path / "click.wav"
    sf.write(short, np.zeros(100, np.float32), 22050)
    with pytest.raises(TfstyleError, match="no content clip: upload or record one"):
        jobs.transfer(None, str(short), "default", workspace)
    with pytest.raises(TfstyleError, match=r"the content clip \(notes.wav\): not a readable "
                                           r"audio file"):
        jobs.transfer(str(text), str(short), "default", workspace)
    with pytest.raises(TfstyleError, match=r"the style clip \(click.wav\): too short"):
        jobs.transfer(os.path.join(EXAMPLES, "piano_melody.wav"), str(short), "default",
                      workspace)
    with pytest.raises(TfstyleError, match=r"the input file \(notes.wav\): not a readable"):
        jobs.convert([str(text)], "violin", None, workspace)
    with pytest.raises(TfstyleError, match="no run folder at /nowhere/run"):
        jobs.convert([str(text)], "violin", "/nowhere/run", workspace)
    with pytest.raises(TfstyleError, match="no input files"):
        jobs.convert([], "violin", None, workspace)
    piano = os.path.join(EXAMPLES, "piano_melody.wav")
    with pytest.raises(TfstyleError, match="vocoder applies to MelGAN-VC models"):
        jobs.convert([piano], "violin", None, workspace, vocoder="/nowhere/vocoder")
    with pytest.raises(TfstyleError, match="/nowhere/vocoder: no such run directory"):
        jobs.convert([piano], "piano-violin", None, workspace, vocoder="/nowhere/vocoder")
    with pytest.raises(TfstyleError, match="/nowhere/vocoder: no such run directory"):
        jobs.transfer(piano, piano, "mel-cnn2", workspace, vocoder="/nowhere/vocoder")
    # Nothing is left of the failed jobs but empty folders, which prune removes later.
    for folder, _, files in os.walk(workspace.root):
        assert not files, folder


def test_command_line_errors_are_one_line(capsys, monkeypatch):
    import sys

    from tfstyle.cli import main

    assert main(["ui", "--port", "70000"]) == 2
    assert capsys.readouterr().err == "tfstyle: error: --port must be 1-65535, got 70000\n"
    monkeypatch.setitem(sys.modules, "gradio", None)    # as if the extra were not installed
    assert main(["ui"]) == 2
    assert 'pip install "tfstyle[ui]"' in capsys.readouterr().err


def test_every_method_is_offered_default_first():
    from tfstyle.presets import PRESETS

    names = [name for _, name in jobs.methods()]
    assert names[0] == "default" and sorted(names) == sorted(PRESETS)
    assert jobs.preset_values("harmonic")["steps"] != jobs.preset_values("default")["steps"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("gradio")
    from tfstyle.ui import page

    served, url, space = page.serve(port=_free_port(), max_upload_mb=1, block=False,
                                    quiet=True)
    yield url, space
    served.close()
    space.close()
    assert not os.path.exists(space.root)


def test_server_answers_and_keeps_users_apart(server):
    from gradio_client import Client, handle_file

    url, _ = server
    assert urllib.request.urlopen(url, timeout=30).status == 200
    client = Client(url, verbose=False)
    assert {"/transfer", "/convert", "/evaluate"} <= set(
        client.view_api(return_format="dict")["named_endpoints"])
    # Two users at once, different files: each gets the conversion of their own file.
    inputs = {name: os.path.join(EXAMPLES, name) for name in ("piano_melody.wav",
                                                               "flute_phrase.wav")}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = {name: pool.submit(Client(url, verbose=False).predict, "violin", "", "",
                                     [handle_file(path)], api_name="/convert")
                   for name, path in inputs.items()}
        results = {name: f.result(timeout=300) for name, f in futures.items()}
    outputs = {}
    for name, (first, picture, everything, summary) in results.items():
        assert summary.startswith("converted 1 of 1 files with violin")
        assert os.path.basename(first) == name.replace(".wav", "_violin.wav")
        outputs[name], sr = sf.read(first)
        assert len(outputs[name]) == pytest.approx(5.0 * sr, abs=sr * 0.01)
    assert not np.allclose(*outputs.values())
    # Bad input: a message in the status line, and the server still answers.
    first, _, _, summary = client.predict("violin", "/nowhere/run", "",
                                          [handle_file(inputs["piano_melody.wav"])],
                                          api_name="/convert")
    assert first is None and summary.startswith("⚠ no run folder at /nowhere/run")
    assert urllib.request.urlopen(url, timeout=30).status == 200


def test_uploads_over_the_limit_are_refused(server, tmp_path):
    from gradio_client import Client, handle_file

    url, space = server
    big = tmp_path / "big.wav"
    sf.write(big, np.zeros(22050 * 30, np.float32), 22050)   # 2.6 MB, limit 1 MB
    with pytest.raises(Exception, match="(?i)file.*(large|size)|413"):
        Client(url, verbose=False).predict("violin", "", "", [handle_file(str(big))],
                                           api_name="/convert")
    assert not any("big" in name for _, _, files in os.walk(space.root) for name in files)


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("needs Chromium and its driver: apt-get install chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1400,1800", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _wait(driver, condition, seconds, what):
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.5).until(
            lambda d: condition(d))
    except Exception:
        path = os.path.join(os.environ.get("PYTEST_TMP", "/tmp"), "tfstyle-ui-failure.png")
        driver.save_screenshot(path)
        raise AssertionError(f"{what} did not happen in {seconds} s (page: {path})") from None


def _played(driver, scope):
    """Presses the player's Play button and waits for its clock to move."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f"{scope} button[aria-label='Play']").click()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, f"{scope} time")[0].text
          not in ("", "0:00"), 20, f"playback in {scope}")
    driver.find_element(By.CSS_SELECTOR, f"{scope} button[aria-label='Pause']").click()


def _fetch_audio(driver, scope):
    """The player's download link, fetched and decoded: (samples, sr)."""
    import io

    from selenium.webdriver.common.by import By

    link = driver.find_element(By.CSS_SELECTOR, f"{scope} a[href*='file=']")
    data = urllib.request.urlopen(link.get_attribute("href"), timeout=30).read()
    return sf.read(io.BytesIO(data))


def _shown(driver, selector):
    from selenium.webdriver.common.by import By

    return [e for e in driver.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()]


def test_the_page_in_a_browser(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    url, _ = server
    browser.get(url)
    cell = "[data-testid='dataset-cell-0-0']"
    _wait(browser, lambda d: _shown(d, f"#transfer-examples {cell}"), 60, "the examples")

    # Transfer: the first example, 3 steps, run; an output to play and a picture.
    browser.find_element(By.CSS_SELECTOR, f"#transfer-examples {cell}").click()
    _wait(browser, lambda d: _shown(d, "#transfer-content button[aria-label='Play']")
          and _shown(d, "#transfer-style button[aria-label='Play']"), 30, "the example's clips")
    steps = browser.find_element(By.CSS_SELECTOR, "#transfer-steps input")
    steps.clear()
    steps.send_keys("3")
    browser.find_element(By.ID, "transfer-run").click()
    _wait(browser, lambda d: _shown(d, "#transfer-output button[aria-label='Play']")
          and _shown(d, "#transfer-picture img"), 300, "the transfer's output")
    status = browser.find_element(By.ID, "transfer-status").text
    # The default method chose the harmonic one for two melodies, and said so.
    assert "3 of at most 3 steps" in status and "method: harmonic (" in status
    y, sr = _fetch_audio(browser, "#transfer-output")
    assert len(y) == pytest.approx(5.0 * sr, abs=0.01 * sr) and np.abs(y).max() > 0.01
    picture = _shown(browser, "#transfer-picture img")[0]
    assert browser.execute_script("return arguments[0].naturalWidth", picture) > 500
    _played(browser, "#transfer-output")
    shot = os.environ.get("TFSTYLE_UI_SCREENSHOT") or str(tmp_path / "ui.png")
    browser.save_screenshot(shot)
    assert os.path.getsize(shot) > 10_000

    # Convert: a text file named .wav gives a message in the page; then the example converts.
    browser.find_element(By.XPATH, "//button[@role='tab'][contains(., 'Convert')]").click()
    bad = tmp_path / "notes.wav"
    bad.write_text("this is a text file, not audio")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#convert-files input[type=file]"),
          30, "the Convert tab")
    browser.find_element(By.CSS_SELECTOR, "#convert-files input[type=file]").send_keys(str(bad))
    _wait(browser, lambda d: "notes" in d.find_element(By.ID, "convert-files").text, 30,
          "the bad file's upload")
    browser.find_element(By.ID, "convert-run").click()
    _wait(browser, lambda d: "not a readable audio file" in d.find_element(
        By.ID, "convert-status").text, 60, "the bad file's message")
    assert "the input file (notes.wav)" in browser.find_element(By.ID, "convert-status").text
    browser.find_element(By.CSS_SELECTOR, f"#convert-examples {cell}").click()
    _wait(browser, lambda d: "piano_melody" in d.find_element(By.ID, "convert-files").text,
          30, "the example's file")
    browser.find_element(By.ID, "convert-run").click()
    _wait(browser, lambda d: _shown(d, "#convert-output button[aria-label='Play']")
          and _shown(d, "#convert-picture img"), 120, "the conversion's output")
    assert "converted 1 of 1 files with violin" in browser.find_element(
        By.ID, "convert-status").text
    y, sr = _fetch_audio(browser, "#convert-output")
    assert len(y) == pytest.approx(5.0 * sr, abs=0.01 * sr)
    _played(browser, "#convert-output")
