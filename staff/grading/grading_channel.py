"""Reading what a grading worker sent back: its stdout, untrusted bytes.

The worker (staff/grading/grading_worker.py) writes READY, then one record per test, in the order
it was asked to run them. Student code runs in the same process and can write on that
channel too, so the grader accepts only this sequence: a line that is not the next expected
record (a second record for a test, one out of order, one for a test not asked for, any
other text) is tampering, and taints the test named in it and the test that was running
when it was written (the next one expected): those score 0 and go to a person. A record's
values are only numbers: whether they pass is decided by comparing them with the reference's
on inputs from this grading's fresh seed, which the student's code cannot know beforehand.

A channel without READY comes from a sandbox (or harness) that did not start: no student
code ran, so that is the grader's failure, never the student's score. Reading it is bounded
work whatever the worker sent (read_channel), so a flood cannot use up the grader's time.
"""

import base64
import json
from dataclasses import dataclass, field

import numpy as np

from staff.grading import grading_worker as worker

MAX_FOREIGN = 64  # lines besides the expected ones read one by one (see read_channel)


@dataclass
class Record:
    status: str  # "ok" or "error"
    outputs: dict = None  # name -> float64 array (status "ok")
    error: dict = None  # kind, type, line, text, phase (status "error")


@dataclass
class Channel:
    started: bool  # READY came first: the sandbox and the harness started
    records: dict = field(default_factory=dict)  # test id -> Record (in order, first seen)
    tampered: set = field(default_factory=set)  # test ids tainted by foreign lines
    foreign: int = 0  # lines that are not the worker's expected records


def decode_array(item):
    """One {"shape", "data"} entry as a float64 array; sizes checked before allocating."""
    shape = item.get("shape") if isinstance(item, dict) else None
    data = item.get("data") if isinstance(item, dict) else None
    if not (isinstance(shape, list) and len(shape) <= worker.MAX_DIMS and isinstance(data, str)
            and all(type(n) is int and 0 <= n <= worker.MAX_ELEMENTS for n in shape)):
        raise ValueError("malformed array")
    count = int(np.prod(shape, dtype=np.int64))
    if count > worker.MAX_ELEMENTS or len(data) != 4 * -(-8 * count // 3):
        raise ValueError("array too large or truncated")
    raw = base64.b64decode(data, validate=True)
    return np.frombuffer(raw, dtype="<f8", count=count).reshape(shape).astype(np.float64)


def decode_outputs(outputs):
    """The "outputs" of an ok record, or ValueError."""
    if not isinstance(outputs, dict) or len(outputs) > worker.MAX_ARRAYS:
        raise ValueError("malformed outputs")
    return {str(name)[:64]: decode_array(item) for name, item in outputs.items()}


def decode_error(record):
    """The error fields of a record, each checked; unknown values are dropped."""
    kind = record.get("kind") if record.get("kind") in worker.ERROR_KINDS else "exception"
    line = record.get("line")
    text = record.get("text")
    return {"kind": kind, "type": record.get("type") if isinstance(record.get("type"), str) else "",
            "line": line if type(line) is int else None,
            "text": text[:worker.MAX_TEXT] if isinstance(text, str) else "",
            "phase": "import" if record.get("phase") == "import" else "test"}


def decode_record(record):
    """A Record from a parsed line (a bad_output error if its values are malformed)."""
    try:
        if record.get("status") == "ok":
            return Record("ok", outputs=decode_outputs(record.get("outputs")))
        return Record("error", error=decode_error(record))
    except (ValueError, TypeError):
        return Record("error", error={"kind": "bad_output"})


def parse_line(line):
    """A line as a dict naming a test id, or None."""
    if len(line) > worker.MAX_LINE:
        return None
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("id"), str) else None


def lines_of(output, start, limit):
    """The first `limit` complete lines of output[start:] (a last line without a newline, cut
    off when the process ended, is not one), and where the rest begins."""
    lines = []
    while len(lines) < limit:
        end = output.find(b"\n", start)
        if end < 0:
            break
        lines.append(output[start:end])
        start = end + 1
    return lines, start


def read_channel(output, tests):
    """
    The Channel of a worker asked to run `tests` (in this order), from its stdout bytes.
    Bounded work: an honest worker writes READY and one line per test, so at most
    MAX_FOREIGN lines besides those are read one by one; past them (a flood: 8 MB of empty
    lines would take the grader minutes to parse) the lines are only counted, and every test
    without a record by then is tainted.
    """
    first, start = lines_of(output, 0, 1)
    if first != [worker.READY]:
        return Channel(started=False)
    channel = Channel(started=True)
    order = [t.id for t in tests]
    lines, rest = lines_of(output, start, len(order) + MAX_FOREIGN)
    for line in lines:
        expected = order[len(channel.records)] if len(channel.records) < len(order) else None
        record = parse_line(line)
        named = record.get("id") if record is not None else None
        if named is not None and named == expected:
            channel.records[named] = decode_record(record)
            continue
        channel.foreign += 1
        channel.tampered.update(t for t in (expected, named) if t in order)
    flood = output.count(b"\n", rest)
    if flood:
        channel.foreign += flood
        channel.tampered.update(t for t in order if t not in channel.records)
    return channel
