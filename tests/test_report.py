"""keras-gen report: RESULTS.md and results/ from two tiny runs' claim records."""
import json
import os

import numpy as np
import pytest

from keras_gen import report
from keras_gen.cli import main


def _claim(id, met, value=1.0, **kw):
    return {"id": id, "statement": f"claim {id} holds.", "metric": "score", "value": value, "sd": 0.1,
            "seeds": [10, 11, 12], "target": 0.5, "op": ">=", "met": met,
            "baselines": {"trivial": {"value": 0.2, "sd": 0.01}, "real": 0.9}, **kw}


def _png(path, size, noise=False):
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8) if noise else np.full((size, size, 3), 200, np.uint8)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    for name, claims, figure in (("dcgan-mnist", [_claim("S4", True), _claim("S4", False, value=0.3)], "samples.png"),
                                 ("minmax-vs-maxmin", [_claim("C13", True)], "orbits.png")):
        (root / name).mkdir(parents=True)
        record = {"claims": claims, "seconds": 125.0, "command": f"keras-gen reproduce {name}",
                  "finished": "2026-12-01T12:00:00+0000", "versions": {"tensorflow": "2.21.0", "keras": "3.15.1"},
                  "machine": {"cpu_cores": 2, "gpus": []}, "figures": [figure]}
        (root / name / "metrics.json").write_text(json.dumps(record))
        _png(root / name / figure, 400, noise=True)  # ~480 KB of noise: must be shrunk
        _png(root / name / "not_listed.png", 50)
    return root


def test_report_structure_verdicts_and_image_limits(runs, tmp_path, capsys):
    md, results = tmp_path / "RESULTS.md", tmp_path / "results"
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n\n{report.TABLE_START}\nold table\n{report.TABLE_END}\n\nafter\n")
    assert main(["report", "--from", str(runs), "--output", str(md), "--results-dir", str(results),
                 "--only", "dcgan-mnist,minmax-vs-maxmin", "--readme", str(readme)]) == 0
    text = md.read_text()
    assert text.startswith("# Results") and "do not edit by hand" in text
    assert "2 reproductions, 3 claims: **2 met, 1 not met**" in text
    # one summary row per claim, with value ± sd and seeds, target, baselines, verdict, time, command
    rows = [line for line in text.splitlines() if line.startswith("| S4 ") or line.startswith("| C13 ")]
    assert len(rows) == 2 * 3  # summary + the notes' sections
    assert "score = 1 ± 0.1 (seeds 10, 11, 12)" in rows[0] and "≥ 0.5" in rows[0]
    assert "trivial 0.2 ± 0.01; real 0.9" in rows[0] and "**met**" in rows[0] and "2.1 min" in rows[0]
    assert "`keras-gen reproduce dcgan-mnist`" in rows[0] and "**not met**" in rows[1]
    assert "### Claims not met" in text and "`dcgan-mnist` S4" in text
    # S4 is listed under note 000, C13 under note 001
    assert text.index("## Note 000") < text.index("### `dcgan-mnist`") < text.index("## Note 001")
    assert text.index("## Note 001") < text.index("### `minmax-vs-maxmin`")
    # figures: only the listed ones, each <= 200 KB, linked relative to RESULTS.md
    pngs = sorted(p.relative_to(results).as_posix() for p in results.rglob("*.png"))
    assert pngs == ["dcgan-mnist/samples.png", "minmax-vs-maxmin/orbits.png"]
    assert all(os.path.getsize(results / p) <= report.MAX_FIGURE_BYTES for p in pngs)
    assert "](results/dcgan-mnist/samples.png)" in text
    assert "| dcgan-mnist | 2026-12-01T12:00:00+0000 | 2.1 min | 2 CPU cores, no GPU |" in text
    assert "reused parts" not in text.split("## Summary")[1]  # no run reused anything
    assert "wrote" in capsys.readouterr().out
    # The README's table is rewritten from the same runs: every claim's number as in RESULTS.md.
    new = readme.read_text()
    assert new.startswith("# x\n\nbefore") and new.rstrip().endswith("after") and "old table" not in new
    row = next(line for line in new.splitlines() if line.startswith("| `dcgan-mnist`"))
    assert "S4 met: score 1 ± 0.1 (seeds 10, 11, 12) (target ≥ 0.5)" in row and "**not met**" in row
    assert "score = 1 ± 0.1 (seeds 10, 11, 12)" in text  # the same number in RESULTS.md


def test_wall_time_says_when_parts_came_from_an_earlier_run(runs, tmp_path):
    path = runs / "minmax-vs-maxmin" / "metrics.json"
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "seconds": 30.0, "reused_parts": ["seed_10"]}))
    md = tmp_path / "RESULTS.md"
    report.write_report(str(runs), str(md), str(tmp_path / "results"))
    row = next(line for line in md.read_text().splitlines() if line.startswith("| C13 "))
    assert "| 30 s + reused parts |" in row


def test_total_size_limit_and_missing_runs(runs, tmp_path):
    figures = report.copy_figures(report.collect(str(runs)), str(tmp_path / "results"), max_total=150_000)
    sizes = [os.path.getsize(p) for paths in figures.values() for p in paths]
    assert len(sizes) == 2 and sum(sizes) <= 150_000
    listed = report.collect(str(runs), names=["dcgan-mnist", "vae-mnist"])
    assert listed[1]["record"] is None and "no metrics.json" in listed[1]["problems"][0]
    text = report.render(listed, {}, "keras-gen report")
    assert "### Runs missing or incomplete" in text and "vae-mnist: no metrics.json" in text


def test_unchanged_figures_are_kept_and_changed_ones_re_encoded(runs, tmp_path, monkeypatch):
    results = tmp_path / "results"
    first = report.copy_figures(report.collect(str(runs)), str(results))
    before = {p: open(p, "rb").read() for paths in first.values() for p in paths}
    encoded = []
    real_shrink = report.shrink_png
    monkeypatch.setattr(report, "shrink_png", lambda src, dst, max_bytes: encoded.append(src) or real_shrink(src, dst, max_bytes))
    again = report.copy_figures(report.collect(str(runs)), str(results))
    assert encoded == [] and {p: open(p, "rb").read() for paths in again.values() for p in paths} == before
    _png(runs / "minmax-vs-maxmin" / "orbits.png", 300, noise=True)  # a new figure for one run
    report.copy_figures(report.collect(str(runs)), str(results))
    assert [os.path.basename(os.path.dirname(p)) for p in encoded] == ["minmax-vs-maxmin"]
    # a smaller byte budget (more figures sharing the total) re-encodes everything
    encoded.clear()
    report.copy_figures(report.collect(str(runs)), str(results), max_total=150_000)
    assert len(encoded) == 2


def test_malformed_claim_records_are_named():
    assert report.check_record({}, "x") == ["x: no claims"]
    bad = _claim("S4", "yes")
    assert report.check_record({"claims": [bad]}, "x") == ["x: claim 0 has met='yes'; expected true or false"]
    del bad["baselines"]
    assert report.check_record({"claims": [bad]}, "x") == ["x: claim 0 lacks baselines"]


def test_every_reproduction_has_a_smoke_test_of_its_claim_record():
    import importlib

    from reproductions import REPRODUCTIONS

    here = os.path.dirname(__file__)
    for name, (module, _) in REPRODUCTIONS.items():
        mod = importlib.import_module(module)
        stem = module.split(".")[-1]
        shared = {"cgan_mnist": "conditional_gan_mnist", "acgan_mnist": "conditional_gan_mnist"}.get(stem, stem)
        path = os.path.join(here, "reproductions", f"test_{shared}.py")
        assert os.path.exists(path), f"{name}: no {path}"
        with open(path, encoding="utf-8") as f:
            assert '["claims"]' in f.read(), f"{name}: its smoke test never reads the claim record"
        with open(os.path.join(os.path.dirname(mod.__file__), f"{shared}.py"), encoding="utf-8") as f:
            assert "common.Run(" in f.read(), f"{name}: does not run through common.Run (claims, resume, chief)"
