"""The whole `callrisk score` path on rendered contact-centre calls with known ground truth (real models)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from pipeline.cli import main
from pipeline.diarize import read_rttm
from pipeline.record import SCHEMA_PATH
from pipeline.writer import iter_records

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """Two short mono calls and one stereo telephone call, rendered, then scored through their manifests."""
    root = tmp_path_factory.mktemp("e2e")
    mono, stereo = root / "mono", root / "stereo"
    assert main(["corpus", "--out", str(mono), "--calls", "2", "--seed", "7", "--audio", "--short"]) == 0
    assert main(["corpus", "--out", str(stereo), "--calls", "1", "--seed", "11", "--audio", "--short",
                 "--stereo", "--telephone", "--crosstalk-db", "-25"]) == 0
    out = root / "scores.jsonl"
    rttm = root / "rttm"
    assert main(["score", str(mono / "metadata.csv"), str(stereo / "metadata.csv"), "-o", str(out),
                 "--set", f"output.rttm_dir={rttm}"]) == 0
    truth = {}
    for corpus in (mono, stereo):
        for line in (corpus / "calls.jsonl").read_text().splitlines():
            call = json.loads(line)
            truth[call["call_id"]] = call
    return {r["call_id"]: r for r in iter_records(out)}, truth, rttm


def test_records_are_valid_and_carry_the_manifest_metadata(scored):
    records, truth, _ = scored
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    assert set(records) == set(truth)
    for call_id, record in records.items():
        assert not list(validator.iter_errors(record))
        assert record["status"] == "ok"
        for key in ("customer_id", "agent_id", "ticket_id", "reason", "started_at"):
            assert record[key] == truth[call_id][key]
        assert record["measures"]["utterances"] == len(record["utterances"])


def test_roles_match_the_ground_truth_for_most_speech(scored):
    records, truth, _ = scored
    right = total = 0.0
    for call_id, record in records.items():
        for utt in record["utterances"]:
            for ref in truth[call_id]["utterances"]:
                shared = min(utt["end"], ref["end"]) - max(utt["start"], ref["start"])
                if shared > 0:
                    total += shared
                    right += shared * (utt["role"] == ref["role"])
    assert total > 0
    assert right / total >= 0.9, f"role accuracy {right / total:.3f}"


def test_stereo_calls_use_the_channels(scored):
    records, truth, _ = scored
    stereo = [r for r in records.values() if r["audio"]["channels"] == 2]
    assert len(stereo) == 1
    record = stereo[0]
    assert record["diarization"]["method"] == "stereo_channels"
    assert {s["role"]: s["channel"] for s in record["speakers"]} == {"agent": 0, "customer": 1}


def test_cues_found_from_audio_match_the_ground_truth(scored):
    """ASR errors included: most labelled cues of each call are found, and most found cues are real."""
    records, truth, _ = scored
    expected = found = hits = 0
    for call_id, record in records.items():
        want = {c["label"] for u in truth[call_id]["utterances"] for c in u["cues"]}
        got = {c["label"] for u in record["utterances"] for c in u["cues"]}
        expected, found, hits = expected + len(want), found + len(got), hits + len(want & got)
        for utt in record["utterances"]:
            for cue in utt["cues"]:
                assert utt["start"] - 0.01 <= cue["start"] <= cue["end"] <= utt["end"] + 0.01
                assert utt["text"][cue["char_start"]:cue["char_end"]] == cue["evidence"]
    assert expected > 0
    assert hits / expected >= 0.6, f"cue recall {hits}/{expected}"
    assert hits / max(found, 1) >= 0.6, f"cue precision {hits}/{found}"


def test_rttm_export_matches_the_record_turns(scored):
    records, _, rttm = scored
    for call_id, record in records.items():
        exported = sorted(read_rttm(str(rttm / f"{call_id}.rttm")), key=lambda t: (t.start, t.end))
        in_record = sorted(record["turns"], key=lambda t: (t["start"], t["end"]))
        assert exported and len(exported) == len(in_record)
        for got, want in zip(exported, in_record):
            # RTTM keeps start and duration to the millisecond, the record start and end: the end may differ by 1 ms
            assert got.speaker == want["speaker"]
            assert got.start == pytest.approx(want["start"], abs=0.0011)
            assert got.end == pytest.approx(want["end"], abs=0.0021)


def test_pii_is_masked_in_every_text_field(tmp_path):
    """A spoken card and phone number, through real ASR, never reach the output when redaction is on."""
    import re
    import subprocess

    wav = tmp_path / "pii.wav"
    line = ("Hello, thanks for calling. Sure, my card number is four one one one, one one one one, one one one one, "
            "one one one one. And my phone number is five five five, two one two, three four five six.")
    subprocess.run(["flite", "-voice", "slt", "-t", line, "-o", str(wav)], check=True)
    out = tmp_path / "o.jsonl"
    assert main(["score", str(wav), "-o", str(out), "--set", "redaction.enabled=true"]) == 0
    (record,) = list(iter_records(out))
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    assert not list(validator.iter_errors(record))
    assert record["redaction"]["enabled"] and sum(record["redaction"]["counts"].values()) >= 2
    texts = [record["transcript"]["text"], *(w["text"] for w in record["transcript"]["words"]),
             *(u["text"] for u in record["utterances"])]
    assert all(not re.search(r"\d{3}", t.replace(" ", "")) for t in texts), texts
    assert "#" in record["transcript"]["text"]
