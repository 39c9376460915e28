from __future__ import annotations

import pytest

from pipeline.asr import AsrOptions
from pipeline.config import ConfigError, load_config, parse_override, section


def test_defaults_load_and_build_every_section():
    config = load_config()
    assert section(config, "asr", AsrOptions).model == "tiny.en"


def test_set_overrides_parse_yaml_values():
    config = load_config(overrides=["asr.beam_size=5", "asr.vad_filter=false", "input.extensions=[.wav]"])
    assert config["asr"]["beam_size"] == 5
    assert config["asr"]["vad_filter"] is False
    assert config["input"]["extensions"] == [".wav"]


def test_unknown_key_is_named(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("asr:\n  beem_size: 5\n")
    with pytest.raises(ConfigError, match=r"unknown key 'asr.beem_size'"):
        load_config(cfg)
    with pytest.raises(ConfigError, match=r"unknown key 'nosuch'"):
        load_config(overrides=["nosuch.x=1"])


def test_wrong_type_is_named(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("asr:\n  beam_size: five\n")
    with pytest.raises(ConfigError, match=r"'asr.beam_size' must be integer"):
        load_config(cfg)
    with pytest.raises(ConfigError, match=r"'asr.vad_filter' must be boolean"):
        load_config(overrides=["asr.vad_filter=1"])


def test_float_accepts_int_but_bad_range_fails_in_section():
    config = load_config(overrides=["audio.silence_dbfs=-50"])
    assert config["audio"]["silence_dbfs"] == -50.0
    config = load_config(overrides=["asr.beam_size=0"])
    with pytest.raises(ConfigError, match=r"section 'asr': beam_size must be >= 1"):
        section(config, "asr", AsrOptions)


def test_malformed_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("asr: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML"):
        load_config(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    with pytest.raises(ConfigError, match=r"top level must be a mapping"):
        load_config(scalar)
    with pytest.raises(ConfigError, match=r"cannot read config"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match=r"expected section.key=value"):
        parse_override("asr.beam_size")


def test_settings_hash_follows_what_shapes_a_record(tmp_path):
    from pipeline.process import DEFAULT_RISK_MODEL, settings_hash

    model = tmp_path / "model.json"
    model.write_bytes(DEFAULT_RISK_MODEL.read_bytes())
    base = [f"risk.model={tmp_path}"]
    digest = settings_hash(load_config(overrides=base))
    assert settings_hash(load_config(overrides=[*base, "asr.beam_size=5"])) != digest
    assert settings_hash(load_config(overrides=[*base, "batch.workers=2"])) == digest  # how calls run, not what they hold
    model.write_bytes(model.read_bytes() + b"\n")  # a retrained model file re-scores calls on resume
    assert settings_hash(load_config(overrides=base)) != digest


def test_files_that_are_not_utf8_or_not_a_model_are_named_errors(tmp_path, capsys):
    from pipeline.cli import main
    from pipeline.cues import load_cue_rules
    from pipeline.risk import CallbackRiskModel

    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"asr:\n  language: fran\xe7ais\n")
    with pytest.raises(ConfigError, match=r"latin1.yaml: not UTF-8 text"):
        load_config(latin1)
    with pytest.raises(ConfigError, match=r"latin1.yaml: not UTF-8 text"):   # CueConfigError is a ConfigError
        load_cue_rules(latin1)
    not_a_model = tmp_path / "model.json"
    for content in ("[]", "\"x\"", "{\"params\": 3}"):
        not_a_model.write_text(content)
        with pytest.raises(ValueError, match=r"model.json: malformed model file"):
            CallbackRiskModel.load(not_a_model)
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"")
    # the CLI turns each of them into a one-line error and exit code 2, before any call is processed
    assert main(["score", str(wav), "-o", str(tmp_path / "o.jsonl"), "--set", f"cues.cues_file={latin1}"]) == 2
    assert main(["score", str(wav), "-o", str(tmp_path / "o.jsonl"), "--set", f"risk.model={not_a_model}"]) == 2
    err = capsys.readouterr().err
    assert "latin1.yaml: not UTF-8 text" in err and "model.json" in err
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("content", ["{not json", "[]", '{"format": "nope"}',
                                     '{"format": "%s", "labels": ["positive"], "coef": [1.0], "intercept": [0.0]}'])
def test_a_malformed_sentiment_head_stops_the_batch_before_it_starts(tmp_path, capsys, content):
    from pipeline.cli import main
    from pipeline.sentiment import FORMAT

    head = tmp_path / "head"
    head.mkdir()
    (head / "head.json").write_text(content.replace("%s", FORMAT))
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"")
    assert main(["score", str(wav), "-o", str(tmp_path / "o.jsonl"), "--set", f"cues.sentiment_head={head}"]) == 2
    err = capsys.readouterr().err
    assert "cues.sentiment_head:" in err and "head.json" in err
    assert not (tmp_path / "o.jsonl").exists()
