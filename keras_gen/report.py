"""`keras-gen report`: RESULTS.md and results/ from the claim records of finished runs.

Every reproduction writes `<out>/metrics.json` with a `claims` list (see CONVENTIONS.md:
id, statement, metric, value, sd, seeds, target, op, met, baselines), its wall time
(`seconds`), the command that repeats it, the library versions and the machine. This
module reads those files and writes

* `RESULTS.md`: a summary table with one row per claim (id, the claim in one sentence,
  the measured value with its spread and seeds, the target, the baselines, the verdict,
  the wall time and the command), then one section per note of the group (000-004) with
  each reproduction's claims and figures, then where and with what each run was made;
* `results/<name>/`: the figures the sections show, re-encoded or downscaled so that
  each is at most `MAX_FIGURE_BYTES` and all together at most `MAX_TOTAL_BYTES` (they
  are meant to live in git).

Nothing is typed in by hand: every number comes from a metrics.json, and the file says
so at its top. The report reads JSON and PNG files only (no TensorFlow), so
`keras-gen report --from runs/` takes seconds.
"""
import io
import json
import math
import os
import shutil
import time

MAX_FIGURE_BYTES = 200_000
MAX_TOTAL_BYTES = 6_000_000

# The notes of SPEC.md and, for every claim and system id, the notes that make it (the
# first one is where RESULTS.md lists it).
NOTES = {
    "000": "Group meeting 2021-01-31: autoencoders, GAN theory, DCGAN, WGAN, BiGAN",
    "001": "Book notes: CNN/RNN/GNN basics, generative models (RBM, VAE family, GMMN), RL, GAN theory and tricks",
    "002": "Lecture notes: optimisation, CNN, self-attention, Transformer, GAN, evaluation, adversarial attack",
    "003": "GAN family overview: GAN, CGAN, DCGAN, ACGAN, InfoGAN, WGAN rules",
    "004": "VAE and GAN from the viewpoint of density estimation, beta-VAE",
}
CLAIM_NOTES = {
    "S1": "000", "S2": "000 001", "S3": "000 001 002 003 004", "S4": "000 003 004", "S5": "000 002 003 004",
    "S6": "002", "S7": "003", "S8": "003", "S9": "003", "S10": "000", "S11": "001", "S12": "001 004",
    "S13": "001 004", "S14": "001", "S15": "001", "S16": "001", "S17": "001", "S18": "001 002",
    "C1": "000", "C2": "000 001", "C3": "001", "C4": "000 002", "C5": "001 002", "C6": "003", "C7": "001 004",
    "C8": "001", "C9": "003", "C10": "000", "C11": "001", "C12": "001", "C13": "001", "C14": "004",
    "T1": "002", "T2": "002", "T3": "002", "T4": "002 001", "T5": "002", "T6": "001 002", "T7": "001",
    "T8": "002", "T9": "001", "T10": "001", "T11": "002", "T12": "002",
}
CLAIM_KEYS = ("id", "statement", "metric", "value", "sd", "seeds", "target", "op", "met", "baselines")


def notes_of(claim_id):
    """The notes a claim id comes from ("000", ...); ids SPEC.md does not list belong to none."""
    return CLAIM_NOTES.get(str(claim_id).split("-")[0].split(".")[0], "").split()


# ---------------------------------------------------------------- reading runs
def check_record(record, where):
    """The problems of a metrics.json's claim record (an empty list when it is well formed)."""
    problems = []
    claims = record.get("claims")
    if not isinstance(claims, list) or not claims:
        return [f"{where}: no claims"]
    for i, c in enumerate(claims):
        missing = [k for k in CLAIM_KEYS if k not in c]
        if missing:
            problems.append(f"{where}: claim {i} lacks {', '.join(missing)}")
        elif not isinstance(c["met"], bool):
            problems.append(f"{where}: claim {i} has met={c['met']!r}; expected true or false")
    return problems


def collect(runs_dir, names=None):
    """The finished runs under `runs_dir`: one dict per `<runs_dir>/<name>/metrics.json`.

    Args:
        names: the run folder names to read, in this order (default: every folder that
            holds a metrics.json, sorted).

    Returns:
        A list of `{"name", "dir", "record", "figures", "problems"}`; a named run without
        a metrics.json is listed with `record=None` and the problem.
    """
    if not os.path.isdir(runs_dir):
        from keras_gen.errors import MissingFileError

        raise MissingFileError(f"runs folder not found: {runs_dir}")
    if names is None:
        names = sorted(d for d in os.listdir(runs_dir) if os.path.isfile(os.path.join(runs_dir, d, "metrics.json")))
    runs = []
    for name in names:
        folder = os.path.join(runs_dir, name)
        path = os.path.join(folder, "metrics.json")
        if not os.path.isfile(path):
            runs.append({"name": name, "dir": folder, "record": None, "figures": [],
                         "problems": [f"{name}: no metrics.json in {folder} (not run, or failed)"]})
            continue
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        runs.append({"name": name, "dir": folder, "record": record, "figures": _figures(folder, record),
                     "problems": check_record(record, name)})
    return runs


def _figures(folder, record):
    """The run's figures: those its metrics.json lists, else every PNG at the top of its folder."""
    listed = record.get("figures")
    if isinstance(listed, list) and listed:
        paths = [os.path.join(folder, os.path.basename(str(p))) for p in listed]
    else:
        paths = [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.lower().endswith(".png")]
    return [p for p in paths if os.path.isfile(p)]


# ---------------------------------------------------------------- figures
def shrink_png(src, dst, max_bytes=MAX_FIGURE_BYTES):
    """Copies the PNG `src` to `dst`, re-encoded (and downscaled if needed) to at most `max_bytes`.

    Steps, until it fits: optimised PNG; 256-colour palette; then 80% of the size per
    step. Returns the bytes written.
    """
    from PIL import Image

    with Image.open(src) as im:
        image = im.convert("RGBA") if im.mode in ("RGBA", "LA", "P") else im.convert("RGB")
    candidates = []
    scale = 1.0
    while True:
        sized = image if scale == 1.0 else image.resize(
            (max(1, int(image.width * scale)), max(1, int(image.height * scale))), Image.LANCZOS)
        for mode in ("full", "palette"):
            buf = io.BytesIO()
            img = sized
            if mode == "palette":
                img = sized.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            img.save(buf, format="PNG", optimize=True)
            data = buf.getvalue()
            candidates.append(data)
            if len(data) <= max_bytes:
                with open(dst, "wb") as f:
                    f.write(data)
                return len(data)
        scale *= 0.8
        if image.width * scale < 32:
            data = min(candidates, key=len)
            with open(dst, "wb") as f:
                f.write(data)
            return len(data)


FIGURE_SOURCES = ".figure_sources.json"  # in results_dir: what each copied figure was made from


def _sha256(path):
    import hashlib

    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def copy_figures(runs, results_dir, max_bytes=MAX_FIGURE_BYTES, max_total=MAX_TOTAL_BYTES):
    """Copies every run's figures to `<results_dir>/<name>/`, within both size limits.

    Returns `{name: [relative paths]}`. When all figures together exceed `max_total`,
    each gets an equal share of it. A figure whose source (SHA-256) and byte budget are
    those recorded in `<results_dir>/.figure_sources.json` by the previous report keeps
    its earlier copy, byte for byte, instead of being re-encoded (the slow part: a few
    tenths of a second per figure); everything else in `results_dir` is rewritten.
    """
    figures = [(run["name"], src) for run in runs for src in run["figures"]]
    per_file = max_bytes
    if figures:
        per_file = min(max_bytes, int(max_total / len(figures)))
    previous, kept = {}, {}
    manifest = os.path.join(results_dir, FIGURE_SOURCES)
    if os.path.isfile(manifest):
        try:
            with open(manifest) as f:
                previous = json.load(f)
        except (OSError, ValueError):
            previous = {}
    figures = [(name, src, f"{name}/{os.path.basename(src)}") for name, src in figures]
    sources = {}
    for name, src, rel in figures:
        sources[rel] = {"sha256": _sha256(src), "max_bytes": per_file}
        old_copy = os.path.join(results_dir, name, os.path.basename(src))
        if previous.get(rel) == sources[rel] and os.path.isfile(old_copy) and os.path.getsize(old_copy) <= per_file:
            with open(old_copy, "rb") as f:
                kept[rel] = f.read()
    if os.path.isdir(results_dir):
        shutil.rmtree(results_dir)
    out = {}
    for name, src, rel in figures:
        folder = os.path.join(results_dir, name)
        os.makedirs(folder, exist_ok=True)
        dst = os.path.join(folder, os.path.basename(src))
        if rel in kept:
            with open(dst, "wb") as f:
                f.write(kept[rel])
        else:
            shrink_png(src, dst, per_file)
        out.setdefault(name, []).append(dst)
    if figures:
        with open(manifest, "w") as f:
            json.dump(sources, f, indent=1, sort_keys=True)
    return out


# ---------------------------------------------------------------- formatting
def _num(x):
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}" if abs(x) >= 10_000 else str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        if x == 0:
            return "0"
        if abs(x) >= 1e4 or abs(x) < 1e-3:
            return f"{x:.3g}"
        return f"{x:.4g}"
    if isinstance(x, str):
        try:
            return _num(float(x))
        except ValueError:
            return x
    return json.dumps(x)


def _value(v):
    """A number, `{value, sd}` or anything else, as short text."""
    if isinstance(v, dict) and "value" in v:
        sd = v.get("sd")
        return f"{_num(v['value'])} ± {_num(sd)}" if sd else _num(v["value"])
    if isinstance(v, dict):
        return "; ".join(f"{k} {_value(x)}" for k, x in v.items())
    return _num(v)


def _target(c):
    op = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}.get(c["op"])
    if c["op"] == "in":
        lo, hi = c["target"]
        return f"in [{_num(lo)}, {_num(hi)}]"
    return f"{op} {_num(c['target'])}"


def _measured(c):
    spread = f" ± {_num(c['sd'])}" if c.get("sd") else ""
    seeds = c.get("seeds") or []
    where = f" (seeds {', '.join(map(str, seeds))})" if seeds else ""
    every = "; every seed" if c.get("every_seed") else ""
    return f"{_num(c['value'])}{spread}{where}{every}"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _minutes(seconds, record=None):
    if not isinstance(seconds, (int, float)):
        return "?"
    text = f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"
    if record and record.get("reused_parts"):
        text += " + reused parts"
    return text


def _claim_row(name, record, c):
    baselines = "; ".join(f"{k} {_value(v)}" for k, v in (c.get("baselines") or {}).items()) or "-"
    verdict = "**met**" if c["met"] else "**not met**"
    note = f" ({c['note']})" if c.get("note") else ""
    return ("| " + " | ".join(_cell(x) for x in (
        f"{c['id']}", c["statement"] + note, f"{c['metric']} = {_measured(c)}", _target(c), baselines, verdict,
        _minutes(record.get("seconds"), record), f"`{record.get('command', 'keras-gen reproduce ' + name)}`")) + " |")


CLAIM_HEADER = ("| claim | statement | measured (mean ± sd, seeds) | target | baselines | verdict | wall time | command |\n"
                "|---|---|---|---|---|---|---|---|")


def run_note(run):
    """The note a run is listed under: the first note of its first claim that has one."""
    for c in (run["record"] or {}).get("claims", []):
        notes = notes_of(c.get("id"))
        if notes:
            return notes[0]
    return None


def render(runs, figures, generated_by, md_dir="."):
    """The text of RESULTS.md."""
    ok = [r for r in runs if r["record"] is not None]
    claims = [(r, c) for r in ok for c in r["record"].get("claims", [])]
    n_met = sum(c["met"] for _, c in claims)
    lines = [
        "# Results",
        "",
        f"> Generated by `{generated_by}` on {time.strftime('%Y-%m-%d')} from the `metrics.json` of each run; "
        "do not edit by hand. Every number below comes from those files. To regenerate: "
        "`keras-gen report --run` (runs every reproduction with its defaults, then writes this file) or "
        "`keras-gen report --from runs/` (from finished runs, in seconds).",
        "",
        f"{len(ok)} reproductions, {len(claims)} claims: **{n_met} met, {len(claims) - n_met} not met**. "
        "Values are means over the report seeds (sample sd after ±) on held-out test data; a claim marked "
        "\"every seed\" must hold for each seed. Baselines include the trivial model that matches each scored "
        "statistic. Wall time is that of the command that wrote the run's metrics.json, on the machine in the "
        "provenance table (shared with other jobs unless it says otherwise); parts of a run computed by an "
        "earlier, interrupted run of the same command and reused are not included (marked \"+ reused parts\" "
        "where the run recorded it).",
        "",
        "## Summary",
        "",
        CLAIM_HEADER,
    ]
    lines += [_claim_row(r["name"], r["record"], c) for r, c in claims]
    not_met = [(r, c) for r, c in claims if not c["met"]]
    if not_met:
        lines += ["", "### Claims not met", ""]
        lines += [f"- `{r['name']}` {c['id']}: {c['statement']} Measured {c['metric']} = {_measured(c)}, "
                  f"target {_target(c)}." for r, c in not_met]
    problems = [p for r in runs for p in r["problems"]]
    if problems:
        lines += ["", "### Runs missing or incomplete", ""] + [f"- {p}" for p in problems]
    by_note = {}
    for r in ok:
        by_note.setdefault(run_note(r), []).append(r)
    for note, title in list(NOTES.items()) + [(None, "Other")]:
        if note not in by_note:
            continue
        lines += ["", f"## {'Note ' + note + ': ' if note else ''}{title}", ""]
        for r in by_note[note]:
            rec = r["record"]
            lines += [f"### `{r['name']}`", "", f"`{rec.get('command', 'keras-gen reproduce ' + r['name'])}` — "
                      f"{_minutes(rec.get('seconds'), rec)} on {_machine(rec)}; "
                      f"claims met: {rec.get('claims_met', '?')}.", "", CLAIM_HEADER]
            lines += [_claim_row(r["name"], rec, c) for c in rec.get("claims", [])]
            lines.append("")
            for path in figures.get(r["name"], []):
                rel = os.path.relpath(os.path.abspath(path), os.path.abspath(md_dir))
                lines.append(f"![{r['name']}: {os.path.basename(path)}]({rel.replace(os.sep, '/')})")
            lines.append("")
    lines += ["", "## Where each run was made", "",
              "| reproduction | finished | wall time | machine | python | tensorflow | keras | keras_gen | numpy |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in ok:
        rec, v = r["record"], r["record"].get("versions", {})
        lines.append("| " + " | ".join(_cell(x) for x in (
            r["name"], rec.get("finished", "?"), _minutes(rec.get("seconds"), rec), _machine(rec), v.get("python", "?"),
            v.get("tensorflow", "?"), v.get("keras", "?"), v.get("keras_gen", "?"), v.get("numpy", "?"))) + " |")
    return "\n".join(lines) + "\n"


def _machine(record):
    m = record.get("machine") or {}
    cores = m.get("cpu_cores", "?")
    gpus = m.get("gpus") or []
    return f"{cores} CPU cores" + (f", {len(gpus)} GPU(s)" if gpus else ", no GPU")


TABLE_START = "<!-- results-table: generated by keras-gen report from the same runs as RESULTS.md -->"
TABLE_END = "<!-- /results-table -->"


def _short_claim(c):
    verdict = "met" if c["met"] else "**not met**"
    return f"{c['id']} {verdict}: {c['metric']} {_measured(c)} (target {_target(c)})"


def readme_table(runs, descriptions):
    """The README's reproductions table: one row per run, quoting every claim of its metrics.json."""
    lines = [TABLE_START, "", "| name | what it checks | measured (RESULTS.md) | wall time of the run |", "|---|---|---|---|"]
    for r in runs:
        desc = _cell(descriptions.get(r["name"], ""))
        if r["record"] is None:
            lines.append(f"| `{r['name']}` | {desc} | not run | - |")
            continue
        rec = r["record"]
        claims = "; ".join(_cell(_short_claim(c)) for c in rec.get("claims", []))
        lines.append(f"| `{r['name']}` | {desc} | {claims} | {_minutes(rec.get('seconds'), rec)} |")
    lines += ["", TABLE_END]
    return "\n".join(lines)


def update_readme(readme, runs, descriptions):
    """Replaces the table between `TABLE_START` and `TABLE_END` in `readme` (False if it has none)."""
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    if TABLE_START not in text or TABLE_END not in text:
        return False
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    with open(readme, "w", encoding="utf-8") as f:
        f.write(head + readme_table(runs, descriptions) + tail)
    return True


def write_report(runs_dir="runs", out_md="RESULTS.md", results_dir="results", names=None,
                 generated_by="keras-gen report", readme=None, descriptions=None):
    """Reads the runs, copies their figures and writes RESULTS.md (and the README's table). Returns `(path, runs)`."""
    runs = collect(runs_dir, names)
    figures = copy_figures([r for r in runs if r["record"] is not None], results_dir)
    text = render(runs, figures, generated_by, os.path.dirname(os.path.abspath(out_md)))
    with open(out_md, "w", encoding="utf-8") as f:
        f.write(text)
    if readme and os.path.exists(readme):
        update_readme(readme, runs, descriptions or {})
    return out_md, runs
