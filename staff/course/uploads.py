"""Find a student's work wherever it is in an upload, for grade_all.py and similarity.py.

The graded files (handin/manifest.py) are located by name anywhere in what the student
uploaded: a zip as `make submission` writes it, a zip of the whole project (the graded files
in backprop/ and neuralnet/, among the kit's other files, which are ignored), a folder, a zip
inside the zip, several zips, loose files. Every zip is opened with handin/check.py's own
protections: unsafe paths, links, encrypted entries and bombs reject it; only the graded
files (and zips inside it, MAX_NESTING deep) are ever extracted, each size-limited, and
under their graded names only.

A candidate is one folder of one container (an uploaded zip or folder, a zip inside one, or
the loose files) with, for each graded name, its shallowest copy below that folder. The
most complete candidate is graded (most graded files; ties: the newest timestamp inside the
zip, then the upload itself before a zip inside it, then the shallower folder). When a
graded file appears more than once, or the work could have come from several zips, the row
is flagged for a person with what was chosen and why.

The grader (staff/grading/grade.py) finds the files in a folder or one subfolder of it, so an
upload it reads the same way is graded as is (exactly as `make grade` grades it); anything
else is graded from a clean folder of the chosen files, and flagged as a repaired layout.
The code of the chosen files (a .py file's text, a notebook's code cells: code_texts) is
what the similarity report compares.
"""

import json
import os
import shutil
import tempfile
import time
import zipfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from handin import check as checker
from handin.notebooks import as_text, code_cells
from staff.course.canvas_names import is_zip_name

MAX_NESTING = 2  # zips inside zips followed (upload > inner.zip > inner.zip)
MAX_INNER_ZIPS = 8  # zips inside one container that are opened
MAX_ENTRIES = 100_000  # of a whole-project zip (.git, a virtualenv); only graded files are
MAX_DECLARED_BYTES = 2**40  # extracted, so their size is what counts (checker's limits)
TOOL_FOLDERS = {".git", ".venv", "venv", "site-packages", "node_modules", "__pycache__",
                ".ipynb_checkpoints", ".Trash"}
MAX_COPIES = 60  # graded-name files in one container: more is not a student's work
MAX_FOLDER_FILES = 20_000  # files listed in an uploaded folder
MAX_FILE_CHARS = 1_000_000  # of a graded file's code, compared by the similarity report
LOOSE = "loose files"
GRADED_NAMES = frozenset(checker.REQUIRED_FILES)


class Unreadable(Exception):
    """An upload (or a zip inside it) that cannot be read safely; the message says why."""


@dataclass(frozen=True)
class Entry:
    """A graded-name file inside a container."""

    parts: tuple  # its path inside the container, as parts
    stamp: tuple  # (year, month, day, hour, minute, second)
    source: object  # zipfile.ZipInfo, or the Path of a file on disk

    @property
    def name(self):
        return self.parts[-1]

    @property
    def path(self):
        return "/".join(self.parts)


@dataclass
class Container:
    """An uploaded zip or folder, a zip inside one, or the loose files of a submission."""

    label: str  # for messages: "hw4.zip", "hw4.zip > draft.zip", "loose files"
    depth: int  # 0: an upload itself
    entries: list  # Entries of graded names
    others: list = field(default_factory=list)  # paths of the other files (hints)
    warnings: list = field(default_factory=list)  # for a person, though the work is read
    archive: zipfile.ZipFile | None = None
    path: Path | None = None  # the uploaded zip or folder (None: loose files, inner zips)


@dataclass
class Candidate:
    container: Container
    root: tuple  # folder inside the container, as parts
    files: dict  # graded name -> Entry

    @property
    def newest(self):
        return max(e.stamp for e in self.files.values())

    @property
    def label(self):
        where = "/".join(self.root)
        return f"{self.container.label}" + (f" > {where}/" if where else "")

    def rank(self):
        """Sort key, best last: most files, newest, the upload before an inner zip,
        shallowest folder."""
        return (len(self.files), self.newest, -self.container.depth, -len(self.root))

    def describe(self):
        year, month, day, hour, minute = self.newest[:5]
        stamp = f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}"
        return f"{self.label} ({len(self.files)} graded file(s), newest {stamp})"


@dataclass
class Work:
    """What to grade of one submission."""

    folder: Path | None = None  # the chosen graded files, under their graded names
    as_is: Path | None = None  # the upload, when the grader reads it as it is
    graded: str = ""  # what was graded, for the row
    layout: list = field(default_factory=list)  # layout mistakes (repaired or not)
    flags: list = field(default_factory=list)  # why a person should look
    problem: str = ""  # why nothing can be graded ("" when something can)

    @property
    def source(self):
        """What to give the grader: the upload itself, or the clean folder."""
        return self.as_is or self.folder


def stamp_of(path):
    return time.localtime(path.stat().st_mtime)[:6]


def check_safety(infos, label):
    """
    handin/check.py's checks on what may be extracted (the graded files and inner zips):
    paths, links, encryption, sizes, ratios; Unreadable if one fails. The rest of a whole
    project is never extracted: too many entries make it Unreadable, and unsafe entries
    there (a virtualenv's links, say) only make a warning, returned.
    """
    if len(infos) > MAX_ENTRIES:
        raise Unreadable(f"{label} has {len(infos)} entries; at most {MAX_ENTRIES} are read")
    wanted = [i for i in infos if extracted(i)]
    problems = checker.safety_problems(wanted, **checker.DEFAULT_LIMITS)
    if problems:
        raise Unreadable(f"{label} is an unsafe zip: " + "; ".join(problems))
    rest = [i for i in infos if not extracted(i)]
    problems = checker.safety_problems(rest, max_entries=MAX_ENTRIES,
                                       max_total_bytes=MAX_DECLARED_BYTES, max_ratio=float("inf"))
    if problems:
        return (f"{label} also holds unsafe entries, never extracted: "
                + "; ".join(problems[:3]) + (f" and {len(problems) - 3} more"
                                             if len(problems) > 3 else ""))
    return ""


def in_tool_folder(parts):
    """True for files in folders tools make (a virtualenv, git, caches): never the work."""
    return any(part in TOOL_FOLDERS for part in parts[:-1])


def file_parts(info):
    """A zip entry's path as parts, or None for what is never read: folders, the metadata
    handin/check.py ignores, files in tool folders."""
    if info.is_dir() or checker.is_ignored(info.filename):
        return None
    parts = tuple(checker.entry_parts(info.filename))
    return None if in_tool_folder(parts) else parts


def extracted(info):
    """True for the zip entries this module may extract: graded files and inner zips."""
    parts = file_parts(info)
    return parts is not None and (parts[-1] in GRADED_NAMES or is_zip_name(parts[-1]))


def open_zip(path, label, depth, stack):
    """A Container for a zip file (Unreadable if it is not a readable, safe zip)."""
    if path.stat().st_size == 0:
        raise Unreadable(f"{label} is an empty file (0 bytes): nothing was uploaded")
    if not zipfile.is_zipfile(path):
        raise Unreadable(f"{label} is not a readable zip (another format such as .rar, or "
                         "a damaged or truncated zip)")
    try:
        archive, infos = checker.open_archive(path)
    except checker.RejectedArchive as err:
        raise Unreadable(f"{label}: {err}") from err
    stack.enter_context(archive)
    warning = check_safety(infos, label)
    container = Container(label, depth, [], archive=archive, warnings=[warning] if warning else [])
    for info in infos:
        parts = file_parts(info)
        if parts is None:
            continue
        if parts[-1] in GRADED_NAMES:
            container.entries.append(Entry(parts, tuple(info.date_time), info))
        else:
            container.others.append("/".join(parts))
    return container


def open_folder(path, label):
    """A Container for an uploaded folder (links are never followed)."""
    container = Container(label, 0, [], path=path)
    count = 0
    for top, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in checker.IGNORED_DIRS
                         and d not in TOOL_FOLDERS)
        for name in sorted(files):
            count += 1
            if count > MAX_FOLDER_FILES:
                raise Unreadable(f"{label} holds more than {MAX_FOLDER_FILES} files")
            file = Path(top) / name
            parts = file.relative_to(path).parts
            if file.is_symlink() or not file.is_file() or checker.is_ignored("/".join(parts)):
                continue
            if name in GRADED_NAMES:
                container.entries.append(Entry(parts, stamp_of(file), file))
            else:
                container.others.append("/".join(parts))
    return container


def loose_container(uploads):
    """The loose graded files of a submission, under the names the student gave them."""
    entries = [Entry((u.original,), stamp_of(u.path), u.path) for u in uploads]
    return Container(f"{LOOSE} " + ", ".join(u.path.name for u in uploads), 0, entries)


def inner_zips(container, scratch, stack, problems):
    """Containers for the zips inside a zip container (extracted, size-limited, to scratch)."""
    if container.archive is None or container.depth >= MAX_NESTING:
        return []
    infos = [i for i in container.archive.infolist() if extracted(i)
             and is_zip_name(i.filename)][:MAX_INNER_ZIPS]
    found = []
    for info in infos:
        label = f"{container.label} > {'/'.join(checker.entry_parts(info.filename))}"
        dest = Path(tempfile.mkdtemp(prefix="inner-", dir=scratch))
        try:
            checker.extract_safely(container.archive, [info], dest)
            path = dest.joinpath(*checker.entry_parts(info.filename))
            inner = open_zip(path, label, container.depth + 1, stack)
        except Unreadable as err:
            problems.append(str(err))
            continue
        except (checker.RejectedArchive, zipfile.BadZipFile, OSError, EOFError) as err:
            problems.append(f"{label} could not be read: {err}")
            continue
        found += [inner, *inner_zips(inner, scratch, stack, problems)]
    return found


def containers_of(uploads, scratch, stack):
    """
    Every container of a submission's uploads.

    Returns a tuple of:
    - containers: list of Containers (the uploads first, then the zips inside them)
    - problems: why an upload or an inner zip could not be read
    """
    containers, problems = [], []
    loose = [u for u in uploads if not u.path.is_dir() and u.original in GRADED_NAMES]
    for upload in uploads:
        if upload in loose:
            continue
        label = upload.path.name
        try:
            if upload.path.is_dir():
                containers.append(open_folder(upload.path, label))
                continue
            if not is_zip_name(upload.original) and not zipfile.is_zipfile(upload.path):
                raise Unreadable(f"{label} is not a zip: ask the student for the zip that "
                                 "make submission writes")
            container = open_zip(upload.path, label, 0, stack)
            container.path = upload.path
            containers += [container, *inner_zips(container, scratch, stack, problems)]
        except Unreadable as err:
            problems.append(str(err))
        except (OSError, zipfile.BadZipFile, EOFError, RuntimeError) as err:
            problems.append(f"{label} could not be read: {err}")
    if loose:
        containers.insert(0, loose_container(loose))
    return containers, problems


def candidates_in(container):
    """Every candidate of a container: one per folder above a graded file."""
    entries = container.entries
    if len(entries) > MAX_COPIES:
        raise Unreadable(f"{container.label} holds {len(entries)} files with graded names "
                         f"(at most {MAX_COPIES} are read)")
    roots = {()} | {e.parts[:i] for e in entries for i in range(1, len(e.parts))}
    found = []
    for root in sorted(roots):
        by_name = {}
        for entry in entries:
            if entry.parts[:len(root)] == root:
                by_name.setdefault(entry.name, []).append(entry)
        files = {}
        for name, copies in by_name.items():
            depth = min(len(e.parts) for e in copies)
            shallowest = [e for e in copies if len(e.parts) == depth]
            if len({e.parts for e in shallowest}) == 1:  # one path (a zip may hold it twice:
                files[name] = shallowest[-1]  # its last entry is what extracting it leaves)
        if files:
            found.append(Candidate(container, root, files))
    return found


def best_candidate(candidates):
    """The most complete candidate (see the module docstring); None if there is none."""
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c.rank(), c.label))


def alternatives(chosen, candidates):
    """The candidates that are not part of the chosen one (distinct sets of files)."""
    chosen_ids = {(id(chosen.container), e.parts) for e in chosen.files.values()}
    seen, others = set(), []
    for candidate in sorted(candidates, key=lambda c: (c.rank(), c.label), reverse=True):
        ids = frozenset((id(candidate.container), e.parts) for e in candidate.files.values())
        if ids <= chosen_ids or ids in seen:
            continue
        seen.add(ids)
        others.append(candidate)
    return others


def duplicates(containers):
    """dict graded name -> where it is ("container: path"), for names found more than once."""
    places = {}
    for container in containers:
        for entry in container.entries:
            places.setdefault(entry.name, []).append(f"{container.label}: {entry.path}")
    return {name: where for name, where in sorted(places.items()) if len(where) > 1}


def choice_flag(chosen, others, copies):
    """Why a person should check the choice among several candidates."""
    text = f"chosen among several: graded the most complete, {chosen.describe()}"
    if others:
        text += "; not " + "; ".join(c.describe() for c in others[:4])
        text += f" and {len(others) - 4} more" if len(others) > 4 else ""
    if copies:
        text += "; graded files appearing more than once: " + ", ".join(
            f"{name} x{len(where)}" for name, where in copies.items())
    return text + "; check that this is the work to grade"


def grader_view(container):
    """
    The graded files staff/grading/grade.py finds in an upload as it is: in the top folder or in one
    folder below it (the one holding the most; the first in name order on a tie).
    """
    folders = [()] + sorted({e.parts[:1] for e in container.entries if len(e.parts) > 1}
                            - {(d,) for d in checker.IGNORED_DIRS})
    best = {}
    for folder in folders:
        found = {e.name: e for e in container.entries if e.parts[:-1] == folder}
        if len(found) > len(best):
            best = found
    return best


def strict_problem(container):
    """Why handin/check.py, as the grader reads a zip, would reject the upload as it is (a
    whole project over its limits, a damaged file next to the graded ones): "" if not."""
    if container.archive is None:
        return ""
    report, archive, _ = checker.inspect_archive(container.path)
    if archive is not None:
        archive.close()
    return "; ".join(report.errors) if report.rejected else ""


def missing_hints(chosen):
    """Flags for graded files missing from the chosen candidate while a similarly named
    file is in the container (a typo, a copy, a Colab download: the work may be there)."""
    flags = []
    for wanted in checker.REQUIRED_FILES:
        if wanted in chosen.files:
            continue
        hints = checker.similar_names(wanted, chosen.container.others)
        if hints:
            flags.append(f"{wanted} not found, but {', '.join(hints[:4])} is: graded without "
                         "it; check whether it is the student's " + wanted)
    return flags


def extract(chosen, scratch):
    """
    Copy the chosen graded files into scratch/work, under their graded names; at most
    handin/check.py's MAX_TOTAL_BYTES in all, counted while reading. Returns that folder.
    """
    dest, staging = scratch / "work", scratch / "staging"
    dest.mkdir()
    budget = checker.MAX_TOTAL_BYTES
    for name, entry in sorted(chosen.files.items()):
        if chosen.container.archive is not None:
            checker.extract_safely(chosen.container.archive, [entry.source], staging, budget)
            source = staging.joinpath(*entry.parts)
        else:
            source = entry.source
            if source.stat().st_size > budget:
                raise Unreadable(f"{entry.path}: the graded files add up to more than "
                                 f"{checker.MAX_TOTAL_BYTES // 2**20} MB")
        budget -= source.stat().st_size
        shutil.copyfile(source, dest / name)
    shutil.rmtree(staging, ignore_errors=True)
    return dest


def find_work(uploads, scratch):
    """
    What to grade of one submission.

    Inputs:
    - uploads: canvas_names.Uploads (path, original name) that may hold the work
    - scratch: a fresh private folder the caller owns (and removes)

    Returns a Work: its folder holds the chosen graded files; problem says why there are
    none (nothing readable, or no graded file in the upload).
    """
    work = Work()
    with ExitStack() as stack:
        containers, problems = containers_of(uploads, scratch, stack)
        try:
            candidates = [c for container in containers for c in candidates_in(container)]
            chosen = best_candidate(candidates)
            if chosen is None:
                work.problem = nothing_found(containers, problems)
                return work
            work.folder = extract(chosen, scratch)
        except (Unreadable, checker.RejectedArchive, zipfile.BadZipFile, OSError,
                EOFError) as err:
            work.problem = f"could not be read: {err}"
            return work
        work.graded = chosen.label
        describe_choice(work, chosen, containers, candidates, problems)
    return work


def nothing_found(containers, problems):
    """Why no graded file could be found."""
    if problems:
        return "; ".join(problems)
    others = sorted({p for c in containers for p in c.others})
    held = ", ".join(others[:8]) + (f" and {len(others) - 8} more" if len(others) > 8 else "")
    return ("no graded file (" + ", ".join(checker.REQUIRED_FILES) + ") found in the upload"
            + (f"; it holds {held}" if held else "; it is empty"))


def repair_reason(chosen, strict):
    """Why the chosen files are graded from a clean folder, not from the upload as it is."""
    if chosen.container.label.startswith(LOOSE):
        return "loose files instead of one zip: graded them together"
    if chosen.container.depth:
        return f"a zip inside the zip: graded {chosen.label}"
    if strict:
        return f"the grader would reject the zip as it is ({strict}): graded its graded files"
    return (f"graded files not where the grader looks (the upload's top folder or one folder "
            f"below it): found in {places(chosen.files.values())}; graded them together")


def places(entries):
    """'a/b/ (x.py, y.py), a/ (z.ipynb)': the folders of `entries` with their files."""
    folders = {}
    for entry in sorted(entries, key=lambda e: e.parts):
        folders.setdefault("/".join(entry.parts[:-1]) + "/", []).append(entry.name)
    return ", ".join(f"{folder} ({', '.join(names)})" for folder, names in folders.items())


def describe_choice(work, chosen, containers, candidates, problems):
    """Fill work.as_is, layout and flags from the choice made."""
    others = alternatives(chosen, candidates)
    copies = duplicates(containers)
    if others or copies or sum(1 for c in containers if c.entries) > 1:
        work.flags.append(choice_flag(chosen, others, copies))
    work.flags += [f"also uploaded, could not be read: {p}" for p in problems]
    work.flags += [warning for c in containers for warning in c.warnings]
    work.flags += missing_hints(chosen)
    missing = [name for name in checker.REQUIRED_FILES if name not in chosen.files]
    if missing:
        work.layout.append("missing graded file(s): " + ", ".join(missing))
    container = chosen.container
    readable = container.path is not None and grader_view(container) == chosen.files
    strict = strict_problem(container) if readable else ""
    if readable and not strict:
        work.as_is = container.path
        return
    reason = repair_reason(chosen, strict)
    work.layout.insert(0, reason)
    work.flags.append(f"layout repaired: {reason}")


def notebook_code(text):
    """The code cells' sources of a notebook's JSON text (empty on unreadable JSON), read
    as the grader reads them (handin/notebooks.py: a source's non-string parts ignored)."""
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return []
    return [as_text(cell.get("source")) for cell in code_cells(nb)]


def code_text(name, text):
    """The code compared of one graded file: a .py file's text, a notebook's code cells."""
    text = text[:MAX_FILE_CHARS]
    if name.endswith(".ipynb"):
        return "".join(f"# ---- cell\n{source.rstrip()}\n" for source in notebook_code(text))
    return text.rstrip() + "\n"


def code_texts(texts):
    """dict graded name -> code text, from dict graded name -> the file's text."""
    return {name: code_text(name, text) for name, text in texts.items() if name in GRADED_NAMES}


def read_texts(folder):
    """dict graded name -> text of the graded files in `folder` (undecodable bytes replaced)."""
    return {path.name: path.read_bytes().decode("utf-8", errors="replace")
            for path in sorted(Path(folder).iterdir())
            if path.name in GRADED_NAMES and path.is_file()}


def folder_code(folder):
    """dict graded name -> code text of the graded files in `folder` (a Work's folder)."""
    return code_texts(read_texts(folder))
