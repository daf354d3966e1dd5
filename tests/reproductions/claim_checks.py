"""Checks of a metrics.json claim record shared by the toy and theory reproductions' tests."""
import numpy as np
import pytest

CLAIM_FIELDS = {"id", "statement", "metric", "value", "sd", "seeds", "target", "op", "met", "baselines"}


def holds(value, op, target):
    """`value op target`, recomputed independently of reproductions.common."""
    if op == "in":
        return target[0] <= value <= target[1]
    return {"<=": value <= target, ">=": value >= target, "<": value < target, ">": value > target}[op]


def check_claims(record):
    """Every claim has the record's fields, and `met` is the condition recomputed from its values."""
    assert record["claims"], "no claims"
    for c in record["claims"]:
        assert set(c) >= CLAIM_FIELDS, c["metric"]
        assert c["baselines"], f"{c['metric']} has no baseline"
        values = [c["per_seed"][str(s)] for s in c["seeds"]] if "per_seed" in c else [c["value"]]
        assert c["value"] == pytest.approx(np.mean(values))
        if c.get("every_seed"):
            expected = all(holds(v, c["op"], c["target"]) for v in values)
        else:
            expected = holds(c["value"], c["op"], c["target"])
        assert c["met"] == expected, c["metric"]
    assert record.get("claims_met", f"{sum(c['met'] for c in record['claims'])}/{len(record['claims'])}") == \
        f"{sum(c['met'] for c in record['claims'])}/{len(record['claims'])}"
