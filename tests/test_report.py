"""`callrisk report` driven in headless Chromium (Debian's chromium + chromedriver, via Selenium), and `callrisk top`.

The records are real `callrisk score` output: a rendered stereo corpus call (agent/customer roles from the
channels), 12 s of the pyannote sample call (mono, roles unknown) and a text file posing as audio (an error
record). Cues, sentiment and risk are added as stand-ins only where the scoring run did not write them, so the
page's cue, sentiment and reason views are exercised either way; the raw records are tested too.
"""

from __future__ import annotations

import copy
import json
import os
import re
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import soundfile as sf

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.commands.top import format_top, printable, rank
from pipeline.report import ReportOptions, audio_src, script_json, write_report
from pipeline.writer import encode, iter_records

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[1]
INJECTION = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'

# scripts/setup.sh installs selenium and Debian's chromium + chromium-driver: a missing one is a failure, not a skip.
assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), "run scripts/setup.sh (chromium, chromium-driver)"

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


# -- data ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scored(tmp_path_factory, short_call) -> Path:
    """Real `callrisk score` output: one stereo corpus call, the 12 s sample excerpt, one failed input."""
    root = tmp_path_factory.mktemp("report")
    corpus = root / "corpus"
    assert main(["corpus", "--recipe", "smoke", "--calls", "1", "--stereo", "--out", str(corpus)]) == 0
    bad = root / "notaudio.wav"
    bad.write_text("this is not audio <b>at all</b>")
    out = root / "scores.jsonl"
    # without a default risk model installed, score without risk (the page must cope with both)
    no_model = "risk" in load_config() and not (ROOT / "models" / "default" / "model.json").exists()
    rc = main(["score", str(corpus / "metadata.csv"), str(short_call), str(bad), "-o", str(out)]
              + (["--set", "risk.model="] if no_model else []))
    assert rc == 1  # the text file fails; the calls go through
    records = list(iter_records(out))
    assert {r["status"] for r in records} == {"ok", "error"}
    return out


def _stand_ins(record: dict, risk: float, rng: random.Random) -> dict:
    """Cues, sentiment and a risk block where the scoring run wrote none (the stages are being wired in)."""
    utterances = record["utterances"]
    if not any(u["cues"] for u in utterances):
        for i, u in enumerate(utterances[1:3], start=1):
            word = u["text"].split()[0]
            u["cues"].append({"label": "prior_contact" if i == 1 else "recap", "score": 0.9, "char_start": 0,
                              "char_end": len(word), "start": u["start"], "end": u["end"], "evidence": word,
                              "method": "pattern"})
    for u in utterances:
        if "sentiment" not in u:
            p = [rng.random() for _ in range(5)]
            u["sentiment"] = dict(zip(("positive", "neutral", "negative", "frustrated", "confused"),
                                      (x / sum(p) for x in p)))
    cued = next(i for i, u in enumerate(utterances) if u["cues"])
    u = utterances[cued]
    if "risk" not in record:
        record["risk"] = {"risk": risk, "band": band_of(risk), "reasons": [
            {"text": "the agent did not check that the fix worked", "feature": "cue_verify_fix", "weight": 0.2,
             "evidence": []}]}
    if not any(reason["evidence"] for reason in record["risk"]["reasons"]):
        record["risk"]["reasons"].append(
            {"text": "the customer said they had called before", "feature": "cue_prior_contact", "weight": 0.9,
             "evidence": [{"utterance": cued, "start": u["start"], "end": u["end"], "text": u["text"]}]})
    return record


def band_of(risk: float) -> str:
    return "low" if risk < 0.2 else "medium" if risk < 0.4 else "high"


@pytest.fixture(scope="module")
def records(scored) -> list[dict]:
    """The real records with stand-ins, copies under other ids/agents/risks, and a record carrying markup."""
    rng = random.Random(7)
    real = list(iter_records(scored))
    ok = [r for r in real if r["status"] == "ok"]
    out = [_stand_ins(copy.deepcopy(r), risk, rng) for r, risk in zip(ok, (0.83, 0.31, 0.47, 0.66))]
    out += [r for r in real if r["status"] == "error"]
    stereo = next(r for r in out if r.get("agent_id"))
    for i, (risk, agent) in enumerate([(0.12, "A-low"), (0.55, "A-x"), (0.05, "A-x")]):
        twin = copy.deepcopy(stereo)
        twin["call_id"], twin["agent_id"] = f"copy-{i}", agent
        twin["risk"]["risk"], twin["risk"]["band"] = risk, band_of(risk)
        twin["audio"]["duration_s"] = stereo["audio"]["duration_s"] + 10 * (i + 1)
        out.append(twin)
    hostile = copy.deepcopy(stereo)
    hostile["call_id"] = "hostile"
    hostile["agent_id"] = "<img src=x onerror=\"window.__pwned=3\">"
    hostile["reason"] = "</script><script>window.__pwned=4</script>"
    hostile["metadata"]["note"] = "<!-- <script>window.__pwned=5</script>"
    target = next(i for i, u in enumerate(hostile["utterances"]) if not u["cues"])
    hostile["utterances"][target]["text"] = INJECTION
    hostile["risk"]["risk"], hostile["risk"]["band"] = 0.99, "high"
    out.append(hostile)
    return out


@pytest.fixture(scope="module")
def report(records, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("page") / "report.html"
    return write_report(records, path, ReportOptions(title="QA <b>review</b>"))


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="callrisk-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--mute-audio", "--autoplay-policy=no-user-gesture-required", "--window-size=1400,1000",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def open_report(browser, path: Path, fragment: str = "") -> None:
    browser.get("about:blank")   # a fresh page each time, even when only the #fragment differs
    browser.get(path.as_uri() + fragment)
    assert browser.execute_script("return document.querySelectorAll('#calls tbody tr').length") > 0


def row_ids(browser) -> list[str]:
    return browser.execute_script("return [...document.querySelectorAll('#calls tbody tr')].map(r => r.dataset.call)")


def click(browser, element) -> None:
    """Click as a reviewer would: scrolled to the middle of its panel, clear of the sticky audio player."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def transcript_texts(browser) -> list[str]:
    return browser.execute_script("return [...document.querySelectorAll('#transcript .utt .text')].map(e => e.textContent)")


def risk_of(record: dict) -> float | None:
    return record["risk"]["risk"] if isinstance(record.get("risk"), dict) else None


def expected_order(records, value, descending: bool) -> list[str]:
    """The page's rule: by value, ties by call id, records without the value last."""
    have = [r for r in records if value(r) is not None]
    have.sort(key=lambda r: r["call_id"])
    have.sort(key=value, reverse=descending)
    return [r["call_id"] for r in have] + sorted(r["call_id"] for r in records if value(r) is None)


# -- page data --------------------------------------------------------------------------------------------------

def test_script_json_cannot_close_the_block():
    data = {"text": "</script><script>alert(1)</script><!-- & \u2028", "n": 1}
    text = script_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == data


def test_audio_src_is_relative_and_encoded(tmp_path):
    audio = tmp_path / "calls" / "a b#1.wav"
    assert audio_src(str(audio), tmp_path / "review") == "../calls/a%20b%231.wav"
    assert audio_src(str(audio), tmp_path) == "calls/a%20b%231.wav"
    assert audio_src(None, tmp_path) is None


def test_report_command_writes_offline_page(scored, tmp_path):
    out = tmp_path / "sub" / "r.html"
    assert main(["report", str(scored), "-o", str(out), "--audio-root", str(tmp_path), "--title", "T"]) == 0
    page = out.read_text()
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    data = json.loads(block)
    by_id = {r["call_id"]: r for r in iter_records(scored)}
    assert {c["id"] for c in data["calls"]} == set(by_id)
    for call in data["calls"]:   # audio linked relative to --audio-root, never embedded
        assert call["src"] == Path(os.path.relpath(by_id[call["id"]]["source_path"], tmp_path)).as_posix()
        assert len(call["u"]) == len(by_id[call["id"]].get("utterances") or [])
    assert "data:audio" not in page and len(page) < 200_000
    assert main(["report", str(tmp_path / "missing.jsonl"), "-o", str(out)]) == 2


# -- browser ----------------------------------------------------------------------------------------------------

def test_raw_records_without_risk(browser, scored, tmp_path):
    """Straight from `callrisk score` (no risk, maybe no sentiment): every call listed, failures shown."""
    real = list(iter_records(scored))
    page = write_report(real, tmp_path / "raw.html")
    open_report(browser, page)
    assert sorted(row_ids(browser)) == sorted(r["call_id"] for r in real)
    with_risk = sum(isinstance(r.get("risk"), dict) for r in real)
    assert f"{with_risk} with a risk score" in browser.find_element(By.ID, "summary").text
    assert ("no risk scores" in browser.find_element(By.ID, "summary").text) == (with_risk == 0)
    failed = next(r for r in real if r["status"] == "error")
    browser.find_element(By.CSS_SELECTOR, f'tr[data-call="{failed["call_id"]}"]').click()
    error = " ".join(browser.find_element(By.ID, "detail-error").text.split())
    assert failed["error"]["type"] in error and " ".join(failed["error"]["message"].split()) in error
    ok = next(r for r in real if r["status"] == "ok" and r["utterances"])
    browser.find_element(By.CSS_SELECTOR, f'tr[data-call="{ok["call_id"]}"]').click()
    assert transcript_texts(browser) == [u["text"] for u in ok["utterances"]]
    # every cue's characters are inside marks carrying its label (spans may overlap or nest)
    marked = browser.execute_script("""return [...document.querySelectorAll('#transcript .utt .text')].map(span => {
        const out = []; let pos = 0;
        for (const node of span.childNodes) {
            const n = node.textContent.length;
            if (node.nodeName === 'MARK') out.push([pos, pos + n, node.dataset.labels.split(' ')]);
            pos += n;
        }
        return out; })""")
    for u, marks in zip(ok["utterances"], marked):
        for cue in u["cues"]:
            covered = {i for a, b, labels in marks if cue["label"] in labels for i in range(a, b)}
            assert set(range(cue["char_start"], cue["char_end"])) <= covered, (u["text"], cue)
    if not isinstance(ok.get("risk"), dict):
        assert "no risk score" in browser.find_element(By.ID, "detail").text
    else:
        assert ok["risk"]["band"] in browser.find_element(By.CSS_SELECTOR, "#detail .badge").text


def test_sort_by_risk_and_duration(browser, report, records):
    open_report(browser, report)
    assert row_ids(browser) == expected_order(records, risk_of, descending=True)  # riskiest first by default
    browser.find_element(By.CSS_SELECTOR, 'th[data-key="risk"]').click()
    assert row_ids(browser) == expected_order(records, risk_of, descending=False)
    duration = lambda r: (r.get("audio") or {}).get("duration_s")  # noqa: E731
    browser.find_element(By.CSS_SELECTOR, 'th[data-key="duration"]').click()
    assert row_ids(browser) == expected_order(records, duration, descending=True)
    assert browser.find_element(By.CSS_SELECTOR, 'th[data-key="duration"]').get_attribute("aria-sort") == "descending"
    browser.find_element(By.CSS_SELECTOR, 'th[data-key="duration"]').click()
    assert row_ids(browser) == expected_order(records, duration, descending=False)


def test_filter_by_band_agent_cue_and_date(browser, report, records):
    open_report(browser, report)
    Select(browser.find_element(By.ID, "f-band")).select_by_value("high")
    assert sorted(row_ids(browser)) == sorted(r["call_id"] for r in records if (r.get("risk") or {}).get("band") == "high")
    Select(browser.find_element(By.ID, "f-band")).select_by_value("error")
    assert row_ids(browser) == [r["call_id"] for r in records if r["status"] == "error"]
    Select(browser.find_element(By.ID, "f-band")).select_by_value("")
    Select(browser.find_element(By.ID, "f-agent")).select_by_value("A-x")
    assert sorted(row_ids(browser)) == ["copy-1", "copy-2"]
    Select(browser.find_element(By.ID, "f-agent")).select_by_value("")
    cue_options = [o.get_attribute("value") for o in Select(browser.find_element(By.ID, "f-cue")).options][1:]
    assert cue_options
    label = cue_options[0]
    Select(browser.find_element(By.ID, "f-cue")).select_by_value(label)
    with_cue = {r["call_id"] for r in records if any(c["label"] == label for u in r.get("utterances") or [] for c in u["cues"])}
    assert set(row_ids(browser)) == with_cue
    browser.find_element(By.ID, "f-reset").click()
    started = next(r["started_at"] for r in records if r.get("started_at"))
    browser.execute_script("""const f = document.getElementById('f-from'), t = document.getElementById('f-to');
        f.value = t.value = arguments[0]; t.dispatchEvent(new Event('input'));""", started[:10])
    assert set(row_ids(browser)) == {r["call_id"] for r in records if (r.get("started_at") or "")[:10] == started[:10]}


def test_click_utterance_cue_and_evidence_seek_audio(browser, report, records):
    call = next(r for r in records if r["call_id"] == "copy-0")
    open_report(browser, report)
    browser.find_element(By.CSS_SELECTOR, 'tr[data-call="copy-0"]').click()
    assert browser.find_element(By.ID, "player").get_attribute("src").endswith("/" + Path(call["source_path"]).name)
    now = lambda: browser.execute_script("return document.getElementById('player').currentTime")  # noqa: E731
    utterance = call["utterances"][-2]
    rows = browser.find_elements(By.CSS_SELECTOR, "#transcript .utt")
    click(browser, rows[len(call["utterances"]) - 2])
    assert now() == pytest.approx(utterance["start"], abs=0.5)
    mark = browser.find_element(By.CSS_SELECTOR, "#transcript mark.cue")
    click(browser, mark)
    row = int(mark.find_element(By.XPATH, "ancestor::div[@data-i]").get_attribute("data-i"))
    cue_starts = [c["start"] for c in call["utterances"][row]["cues"] if c["label"] in mark.get_attribute("data-labels").split()]
    assert now() == pytest.approx(float(mark.get_attribute("data-t")), abs=0.5)
    assert any(abs(float(mark.get_attribute("data-t")) - t) < 1e-3 for t in cue_starts)
    evidence = next(reason["evidence"][0] for reason in call["risk"]["reasons"] if reason["evidence"])
    click(browser, browser.find_element(By.CSS_SELECTOR, "button.evidence"))
    assert now() == pytest.approx(evidence["start"], abs=0.5)
    # the audio file was found and loaded (it is linked, not embedded)
    assert browser.execute_script("return document.getElementById('player').duration") == pytest.approx(
        sf.info(call["source_path"]).duration, abs=0.05)
    assert browser.find_elements(By.CSS_SELECTOR, "#sentiment-chart circle")


def test_markup_in_records_is_shown_as_text(browser, report):
    open_report(browser, report, "#call=hostile")
    assert browser.execute_script("return window.__pwned") is None
    assert browser.find_element(By.ID, "detail-id").text == "hostile"
    assert INJECTION in transcript_texts(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "img, #detail script, #calls script")
    detail = browser.find_element(By.ID, "detail").text
    assert "</script><script>window.__pwned=4</script>" in detail and "<!-- <script>window.__pwned=5</script>" in detail
    assert '<img src=x onerror="window.__pwned=3">' in browser.find_element(By.CSS_SELECTOR, 'tr[data-call="hostile"]').text
    assert browser.title == "QA <b>review</b>"
    assert browser.execute_script("return window.__pwned") is None


def test_report_screenshot_script(scored, tmp_path):
    png = tmp_path / "shot.png"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "report_screenshot.py"), str(scored), "-o", str(png),
                           "--size", "1000x700"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1000 and int.from_bytes(data[20:24], "big") == 700


def test_responsive_with_5000_calls(browser, records, tmp_path):
    """5,000 copies of a real record: render time, page size and the time of sort/filter clicks in Chromium."""
    rng = random.Random(3)
    base = next(r for r in records if r["call_id"] == "copy-0")
    many = []
    for i in range(5000):
        rec = copy.deepcopy(base) if i < 1 else dict(base)   # shallow copies share the big parts
        risk = rng.random()
        rec["call_id"], rec["agent_id"], rec["reason"] = f"call-{i:05d}", f"A{i % 60:03d}", f"reason{i % 9}"
        rec["audio"] = {**base["audio"], "duration_s": rng.uniform(20, 900)}
        rec["risk"] = {**base["risk"], "risk": risk, "band": "low" if risk < 0.2 else "medium" if risk < 0.4 else "high"}
        many.append(rec)
    t0 = time.perf_counter()
    page = write_report(many, tmp_path / "big.html")
    render_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    open_report(browser, page)
    load_s = time.perf_counter() - t0
    timed = "const t = performance.now(); {action}; return performance.now() - t;"
    actions = {
        "sort risk asc": "document.querySelector('th[data-key=risk]').click()",
        "sort duration": "document.querySelector('th[data-key=duration]').click()",
        "sort agent": "document.querySelector('th[data-key=agent]').click()",
        "filter band=high": "const b = document.getElementById('f-band'); b.value = 'high'; b.dispatchEvent(new Event('input'))",
        "search text": "const s = document.getElementById('f-search'); s.value = 'call-04'; s.dispatchEvent(new Event('input'))",
        "reset filters": "document.getElementById('f-reset').click()",
        "next page": "document.getElementById('next').click()",
        "open call": "document.querySelector('#calls tbody tr').click()",
    }
    ms = {}
    for name, action in actions.items():
        runs = [browser.execute_script(timed.format(action=action)) for _ in range(3 if "sort" in name else 1)]
        ms[name] = statistics.median(runs)
    assert len(row_ids(browser)) == 50
    assert "calls 51\u2013100 of 5000" in browser.find_element(By.ID, "pageinfo").text  # 'next page' after reset
    size_mb = page.stat().st_size / 1e6
    summary = ", ".join(f"{k} {v:.0f} ms" for k, v in ms.items())
    print(f"\n5,000 calls: report {size_mb:.1f} MB written in {render_s:.1f} s, loaded in {load_s:.1f} s; {summary}")
    assert load_s < 30 and max(ms.values()) < 2000, (load_s, ms)


# -- callrisk top -----------------------------------------------------------------------------------------------

def test_top_without_risk_scores_exits_1(scored, tmp_path, capsys):
    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(encode({k: v for k, v in r.items() if k != "risk"}) for r in iter_records(scored)))
    assert main(["top", str(bare)]) == 1
    assert "no risk scores" in capsys.readouterr().err


def test_top_lists_riskiest_with_reasons(records, tmp_path, capsys):
    path = tmp_path / "scores.jsonl"
    hostile = next(r for r in records if r["call_id"] == "hostile")
    hostile = {**hostile, "call_id": "evil\x1b[2J\nid"}
    path.write_text("".join(encode(r) for r in records + [hostile]))
    assert main(["top", str(path), "-n", "3"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header, rows = lines[0].split(), [line for line in lines[2 : lines.index("")] if line[:1].isdigit()]
    assert header == ["#", "call_id", "risk", "band", "agent", "reason"]
    top3 = sorted((r for r in records + [hostile] if isinstance(r.get("risk"), dict)),
                  key=lambda r: (-r["risk"]["risk"], r["call_id"]))[:3]
    assert [row.split()[1] for row in rows] == [printable(r["call_id"]).split()[0] for r in top3]
    assert "\x1b" not in out
    first_reason = top3[0]["risk"]["reasons"][0]
    assert printable(first_reason["text"], 80) in lines[3]
    assert f"3 of {sum(isinstance(r.get('risk'), dict) for r in records) + 1} scored calls shown" in out
    # columns line up: every row's risk ends where the header's 'risk' ends
    end = lines[0].index("risk") + len("risk")
    assert all(row[end - 5 : end].replace(".", "").strip().isdigit() for row in rows)
    assert main(["top", str(path), "--band", "low", "--reasons", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    low = [line for line in lines[2 : lines.index("")] if line[:1].isdigit()]
    assert low and all(" low " in line for line in low)
    low_ids = [r["call_id"] for r in rank(records, 10, "low")]
    assert {"copy-0", "copy-2"} <= set(low_ids) and low_ids.index("copy-0") < low_ids.index("copy-2")
    assert format_top([]).count("\n") == 1


def test_top_quotes_the_cue_words_at_the_cue_time(tmp_path, capsys):
    said = "Thanks for waiting. Your reference number is 7 4 2. Anything else?"
    record = {"call_id": "c1", "agent_id": "A1", "reason": "billing", "status": "ok",
              "risk": {"risk": 0.3, "band": "medium", "reasons": [
                  {"text": "The agent gave a reference number", "feature": "cue_reference_number", "weight": -0.4,
                   "evidence": [{"utterance": 0, "start": 64.2, "end": 66.0, "text": said,
                                 "evidence": "Your reference number is 7 4 2"}]}]}}
    path = tmp_path / "s.jsonl"
    path.write_text(encode(record))
    assert main(["top", str(path)]) == 0
    out = capsys.readouterr().out
    assert '@1:04.2 "Your reference number is 7 4 2"' in out


def test_report_evidence_shows_the_cue_words_when_there_are_some(tmp_path):
    from pipeline.report import call_entry

    record = {"call_id": "c1", "status": "ok", "risk": {"risk": 0.3, "band": "medium", "reasons": [
        {"text": "The agent gave a reference number", "feature": "cue_reference_number", "weight": -0.4, "evidence": [
            {"utterance": 0, "start": 64.2, "end": 66.0, "text": "Thanks. Your reference is 7 4 2.", "evidence": "reference is 7 4 2"},
            {"utterance": 3, "start": 90.0, "end": 92.0, "text": "I feel let down"}]}]}}
    (reason,) = call_entry(record, tmp_path)["reasons"]
    assert [e["text"] for e in reason["evidence"]] == ["reference is 7 4 2", "I feel let down"]
