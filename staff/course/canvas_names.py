"""Who handed in what: parse the file names of a folder of submissions (plain or Canvas).

Canvas's "Download Submissions" zip holds one file per uploaded attachment, named

    <lastfirst>_[LATE_]<user id>_<submission id>_<original file name>

e.g. `doejane_LATE_123456_7890123_hw4-1.zip`: `doejane` is the student's sortable name,
lower case without spaces or punctuation; `LATE` is there when Canvas marked the
submission late; the user id is the student's Canvas id (the "ID" column of the
gradebook); the second number identifies the uploaded file (a later upload gets a larger
one). When a student uploads a file of the same name again, Canvas adds `-N` to the
original name (`hw4-1.zip`, `hw4-2.zip`). Students who uploaded several files (the six
graded files one by one instead of a zip) get one file per attachment, all with the same
submission id.

Anything else in the folder is a plain submission named after the student, exactly
`<uniqname>.zip` or a folder `<uniqname>/` (as `make submission` writes them; a uniqname is
letters, digits, `_` and `-`). Any other name (`jdoe.old.zip`, `=HYPERLINK(...).zip`, a file
outside Canvas's pattern in a Canvas download) is never matched to a student by a guess: it
is its own submission, under its whole file name, flagged for a person.

Which of a student's uploads hold the work is decided by staff/course/uploads.py: every zip,
folder and loose graded file of the latest submission is a candidate.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from handin import check as checker

CANVAS_RE = re.compile(
    r"^(?P<name>[^_/]+)_(?:(?P<late>late)_)?(?P<user_id>\d+)_(?P<submission_id>\d+)_"
    r"(?P<original>.+)$",
    re.IGNORECASE,
)
ATTEMPT_RE = re.compile(r"^(?P<stem>.+?)-(?P<attempt>\d{1,3})$")
UNIQNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
JUNK_NAMES = {*checker.IGNORED_NAMES, *checker.IGNORED_DIRS}  # what zip tools add


@dataclass
class Upload:
    """One downloaded file (or folder) and what its name says."""

    path: Path
    student: str  # key: "<lastfirst>_<user id>" (Canvas), the uniqname, or the whole name
    name: str  # lastfirst (Canvas), the uniqname (plain), or the whole file name
    user_id: str = ""
    submission_id: int = -1
    attempt: int = 0  # Canvas's -N suffix on the original name (0: none)
    late: bool = False
    original: str = ""  # the file name the student uploaded, without the -N suffix
    misnamed: str = ""  # why the name could not be read (empty: it could)

    @property
    def order(self):
        """Sort key: later uploads sort last."""
        return (self.submission_id, self.attempt, self.path.name)


@dataclass
class Submission:
    """A student's submission to grade: the chosen upload(s) and the older ones."""

    student: str
    name: str
    user_id: str
    chosen: list  # Uploads that may hold the work (staff/course/uploads.py picks among them)
    older: list = field(default_factory=list)  # Uploads superseded by `chosen`
    notes: list = field(default_factory=list)  # sentences for the gradebook row

    @property
    def late(self):
        return any(u.late for u in self.chosen)

    @property
    def resubmitted(self):
        return bool(self.older) or any(u.attempt for u in self.chosen)

    @property
    def misnamed(self):
        return next((u.misnamed for u in self.chosen if u.misnamed), "")

    @property
    def plain(self):
        """A plain-folder submission matched by its exact name (its uniqname is the login)."""
        return not self.user_id and not self.misnamed


def split_attempt(original):
    """'hw4-2.zip' -> ('hw4.zip', 2); 'hw4.zip' -> ('hw4.zip', 0)."""
    path = Path(original)
    suffix = "".join(path.suffixes[-1:])
    stem = original[: len(original) - len(suffix)] if suffix else original
    match = ATTEMPT_RE.match(stem)
    if not match:
        return original, 0
    return match.group("stem") + suffix, int(match.group("attempt"))


def plain_name(path):
    """The uniqname of `uniqname.zip` or of a folder `uniqname/`, else ""."""
    path = Path(path)
    if path.is_dir():
        stem = path.name
    elif path.suffix.lower() == ".zip":
        stem = path.name[: -len(path.suffix)]
    else:
        return ""
    return stem if UNIQNAME_RE.match(stem) else ""


def parse_upload(path, canvas):
    """An Upload for `path`; `canvas`: the folder is a Canvas download."""
    path = Path(path)
    match = CANVAS_RE.match(path.name)
    if match:
        original, attempt = split_attempt(match.group("original"))
        name, user_id = match.group("name").lower(), match.group("user_id")
        return Upload(path, f"{name}_{user_id}", name, user_id, int(match.group("submission_id")),
                      attempt, bool(match.group("late")), original)
    uniqname = "" if canvas else plain_name(path)
    if uniqname:
        return Upload(path, uniqname, uniqname, original=path.name)
    if canvas:
        why = ("the name does not follow Canvas's <lastfirst>_[LATE_]<user id>_<submission "
               "id>_<file> pattern")
    else:
        why = "the name is not exactly <uniqname>.zip or a folder <uniqname>/"
    misnamed = f"{path.name}: {why}; graded on its own, match it to a student by hand"
    return Upload(path, path.name, path.name, original=path.name, misnamed=misnamed)


def list_uploads(folder):
    """The files and folders of `folder` that may be submissions (junk and dotfiles skipped)."""
    return sorted(p for p in Path(folder).iterdir()
                  if p.name not in JUNK_NAMES and not p.name.startswith((".", "._")))


def is_canvas_download(paths):
    """True if at least half of the names follow Canvas's pattern."""
    hits = sum(1 for p in paths if CANVAS_RE.match(p.name))
    return bool(paths) and hits * 2 >= len(paths)


def group_submissions(folder, graded_names):
    """
    Group the uploads of `folder` by student and pick what to grade for each.

    Inputs:
    - folder: the downloaded submissions (already unpacked if it was Canvas's zip)
    - graded_names: the file names a submission must hold (functions.py, ..., part2.ipynb)

    Returns a list of Submissions sorted by student key.
    """
    paths = list_uploads(folder)
    canvas = is_canvas_download(paths)
    by_student = {}
    for path in paths:
        upload = parse_upload(path, canvas)
        by_student.setdefault(upload.student, []).append(upload)
    return [choose(uploads, set(graded_names)) for _, uploads in sorted(by_student.items())]


def choose(uploads, graded_names):
    """
    The Submission of one student: the uploads of the latest submission that may hold the
    work (its zips and folders, and its loose graded files, the last of each name; or, if it
    has none of those, all of them, to say why they cannot be graded).
    """
    uploads = sorted(uploads, key=lambda u: u.order)
    latest = uploads[-1]
    same = [u for u in uploads if u.submission_id == latest.submission_id]
    holders = [u for u in same if is_zip_name(u.original) or u.path.is_dir()]
    loose = latest_per_name([u for u in same if u.original in graded_names
                             and not u.path.is_dir()])
    chosen = holders + loose or same
    notes = []
    if loose and not holders:
        notes.append("loose files uploaded instead of one zip")
    others = [u for u in same if u not in chosen]
    if others:
        notes.append("also uploaded, not graded: " + ", ".join(u.path.name for u in others))
    older = [u for u in uploads if u not in same]
    if older:
        notes.append("older submission(s) not graded: " + ", ".join(u.path.name for u in older))
    return Submission(latest.student, latest.name, latest.user_id, chosen, older, notes)


def is_zip_name(name):
    return name.lower().endswith(".zip")


def latest_per_name(uploads):
    """The last upload of each original name (uploads sorted oldest first)."""
    by_name = {}
    for upload in uploads:
        by_name[upload.original] = upload
    return sorted(by_name.values(), key=lambda u: u.original)
