"""A small, fast MusicXML reader: sounding notes of each part, nothing else.

music21 parses a chorale in about 0.1-0.2 s; building the whole bundled corpus with it
takes over a minute on two cores. The piano roll needs only pitches, onsets and
durations, which this reader takes from the XML directly (about 100x faster). Its
output is tested to equal music21's on the bundled chorales; MIDI and anything this
reader does not understand still go through music21 (see `piano_roll.parse_file`).
"""
import xml.etree.ElementTree as ET
import zipfile

_STEP = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


class MusicXMLError(ValueError):
    """A MusicXML file this reader cannot interpret."""


def _root(path):
    if str(path).lower().endswith(".mxl"):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            target = None
            if "META-INF/container.xml" in names:
                container = ET.fromstring(z.read("META-INF/container.xml"))
                rootfile = container.find(".//rootfile")
                if rootfile is not None:
                    target = rootfile.get("full-path")
            if target is None:
                candidates = [n for n in names if n.endswith(".xml") and not n.startswith("META-INF")]
                if not candidates:
                    raise MusicXMLError("no score inside the .mxl archive")
                target = candidates[0]
            return ET.fromstring(z.read(target))
    return ET.parse(path).getroot()


def _num(el, tag, default=None):
    child = el.find(tag)
    if child is None or child.text is None:
        return default
    return float(child.text)


def read_parts(path):
    """Returns `[(part_name, part_id, [(onset, end, midi), ...]), ...]` in quarter lengths.

    Raises `MusicXMLError` for timewise scores or files without parts.
    """
    root = _root(path)
    if root.tag != "score-partwise":
        raise MusicXMLError(f"unsupported MusicXML root <{root.tag}> (only score-partwise)")
    names = {}
    for sp in root.iter("score-part"):
        pn = sp.find("part-name")
        names[sp.get("id")] = (pn.text or "") if pn is not None else ""
    parts = []
    for part in root.findall("part"):
        pid = part.get("id")
        events = []
        divisions = 1.0
        measure_start = 0.0
        for measure in part.findall("measure"):
            pos = 0.0  # in divisions, relative to the measure start
            furthest = 0.0
            last_onset = 0.0
            for el in measure:
                tag = el.tag
                if tag == "attributes":
                    d = _num(el, "divisions")
                    if d:
                        divisions = d
                elif tag == "backup":
                    pos -= _num(el, "duration", 0.0)
                elif tag == "forward":
                    pos += _num(el, "duration", 0.0)
                    furthest = max(furthest, pos)
                elif tag == "note":
                    if el.find("grace") is not None or el.find("cue") is not None:
                        continue
                    dur = _num(el, "duration", 0.0)
                    if el.find("chord") is not None:
                        onset = last_onset
                    else:
                        onset = pos
                        pos += dur
                        furthest = max(furthest, pos)
                    last_onset = onset
                    pitch = el.find("pitch")
                    if pitch is None or el.find("rest") is not None or dur <= 0:
                        continue
                    step = pitch.findtext("step")
                    if step not in _STEP:
                        raise MusicXMLError(f"unknown pitch step {step!r}")
                    alter = float(pitch.findtext("alter") or 0)
                    octave = int(pitch.findtext("octave"))
                    midi = int(round(12 * (octave + 1) + _STEP[step] + alter))
                    start = measure_start + onset / divisions
                    events.append((start, start + dur / divisions, midi))
            measure_start += furthest / divisions
        parts.append((names.get(pid, ""), pid, events))
    if not parts:
        raise MusicXMLError("no parts in the score")
    return parts
