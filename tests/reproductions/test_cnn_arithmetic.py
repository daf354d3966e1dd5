"""Smoke test of cnn-arithmetic (T6) with a tiny budget: one network, few gradient samples."""
import json
import os

import pytest

from keras_gen.errors import KerasGenError, UnknownNameError
from reproductions import cnn_arithmetic as repro


def test_stride_free_baseline_by_hand():
    model = repro.probe_network(56, seed=0)
    sf = repro.stride_free(model)
    # 3x3 (+2), dilated 3x3 (+4), 2x2 max-pool (+1), 3x3 depthwise (+2), 3x3 avg-pool (+2), 2x2 conv (+1)
    assert sf["conv_2x2_valid"] == 1 + 2 + 4 + 1 + 2 + 2 + 1
    assert sf["add"] == 1 + 2 + 4  # the max over the two branches


@pytest.mark.slow
def test_cnn_arithmetic_tiny_run(tmp_path):
    out = tmp_path / "run"
    m = repro.run(repro.HParams(networks="mobilenet", gradient_samples=16, probe_size=56, seeds="3", out=str(out)))
    claims = {c["metric"]: c for c in m["claims"]}
    assert claims["params_abs_diff_max"]["met"] and claims["params_abs_diff_max"]["value"] == 0
    assert claims["mobilenet_receptive_field"]["value"] == 315 and claims["mobilenet_receptive_field"]["met"]
    assert claims["mobilenet_macs_relative_error"]["value"] < 0.02
    assert claims["mobilenet_receptive_field"]["baselines"]["strides_ignored"] < 100  # the baseline fails the check
    assert claims["shape_mismatches"]["met"] and m["layer_zoo_layers"] > 150
    assert claims["receptive_field_mismatches"]["value"] == 0 and m["probe"]["3"]["stride_free_mismatches"] >= 5
    assert claims["variant_mismatches"]["met"], [c for c in m["variants"]["checks"] if c["formula"] != c["keras"]]
    assert m["variants"]["block_bottleneck_256_params"] == 256 * 64 + 9 * 64 * 64 + 64 * 256
    assert m["variants"]["head_flatten_params"] == 49 * m["variants"]["head_gap_params"] - 48 * 1000
    record = json.loads((out / "metrics.json").read_text())
    assert record["claims_met"] == f"{len(record['claims'])}/{len(record['claims'])}" and record["seeds"] == [3]
    for name in ("receptive_fields.png", "gradient_receptive_field.png", "costs.png", "networks.json"):
        assert os.path.getsize(out / name) > 1000
        if name.endswith(".png"):
            assert os.path.getsize(out / name) < 150_000


def test_unknown_network_is_one_line_error(tmp_path):
    with pytest.raises(UnknownNameError, match="unknown network 'alexnet'"):
        repro.run(repro.HParams(networks="vgg16,alexnet", out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="--probe-size must be >= 56"):
        repro.run(repro.HParams(probe_size=8, out=str(tmp_path)))
