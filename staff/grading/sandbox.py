"""Run untrusted student code sealed off from the grader, the reference and the results.

Three modes; `choose_mode()` picks the best one the machine allows:

- "bwrap": bubblewrap (https://github.com/containers/bubblewrap). New user, pid, network,
  ipc, uts and cgroup namespaces; --die-with-parent and --new-session (no signals to the
  grader, no TIOCSTI). The job sees read-only binds of /usr, the Python install, the venv and
  the job's own folders, a /tmp tmpfs of TMPFS_MB, a read-only /proc/sys and /dev, and runs
  as uid 65534 inside. Every job starts under `prlimit --nproc=NPROC`: the kernel (5.14 and
  later) counts a user namespace's tasks, threads included, on their own, so each sandbox may
  hold NPROC tasks whatever else the grader's user runs (a staff laptop with a browser open
  has hundreds of threads). The kernel never applies that limit to tasks that are root
  outside, so when the grader is root, bwrap itself runs as a fresh unprivileged uid per job
  ("launcher"); only where that cannot work does bwrap run as root, and then the grader
  counts each sandbox's threads every POLL seconds and stops it above NPROC.
- "uid": where bwrap cannot run but the grader is root (a container without user
  namespaces): each job runs as a fresh unprivileged uid with RLIMIT_NPROC, ONE JOB AT A TIME
  on the whole machine (`exclusive()`), and after each job every process of its uid is
  killed, its files in every world-writable folder of the machine (found once per process,
  recursively) and its System V IPC objects are removed.
- "none": a plain subprocess in its own session (not root and no bwrap). Grading still
  works, and the grader says that it ran WITHOUT isolation.

Where a fresh uid cannot reach the Python install (it lives in /root, or in a private
folder), the job starts in a private mount namespace in which the first folder that others
may not search is covered by a tmpfs into which the needed folders are bound back (as root,
before the uid drops); other paths stay as they are, and nothing of this shows outside.

Every job also gets resource limits (address space, CPU time, file size, no core files) and
a wall-clock deadline. Its configuration comes on stdin, never on a command line (which
every process on the machine can read). A job's stdout is its only channel back, read with
a size cap; what it contains is untrusted and must be decoded with explicit limits. The
first ERRORS_KEEP bytes of its stderr are kept to explain a sandbox that could not start.
"""

import contextlib
import ctypes
import fcntl
import json
import os
import random
import re
import resource
import secrets
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MODES = ("bwrap", "uid", "none")
FRESH_UIDS = (1_000_000_000, 2_000_000_000)  # a random uid of this range per job (no account)
INSIDE_UID = 65534
TMPFS_MB = 64
FSIZE_MB = 64
NPROC = 128  # tasks (processes and threads) of one job
OUTPUT_CAP = 8 * 2**20  # bytes a job may send back on stdout
ERRORS_KEEP = 4096  # bytes of a job's stderr kept (the reason a sandbox did not start)
PID1_WAIT = 5.0  # seconds at most to wait for a stopped bwrap job's pid 1 to be gone
POLL = 0.1  # seconds between counts of a sandbox's threads where bwrap runs as root
WRITABLE_DIRS = ("/tmp", "/var/tmp", "/dev/shm")  # swept even if the scan missed them
UID_LOCK = "/tmp/hw4-uid-sandbox.lock"
INSIDE = {"code": "/sandbox/code", "harness": "/sandbox/harness", "scratch": "/tmp"}
CLONE_NEWNS, MS_BIND, MS_REC, MS_PRIVATE = 0x00020000, 4096, 16384, 1 << 18
MS_NOSUID, MS_NODEV = 2, 4
LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: a forked child must not dlopen


@dataclass
class Job:
    """A command to run sandboxed. `args` may use {code}, {harness}, {scratch}, {python}."""

    args: list
    folders: dict  # "code"/"harness" -> outside Path, bound read-only
    wall: float  # seconds
    memory_mb: int
    env: dict = field(default_factory=dict)
    python: bool = True  # bind the Python install and venv (False: system tools only)
    config: dict = None  # sent as one JSON line on stdin (its strings may use the same {...})


QUIET_ENV = {"MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
             "MKL_NUM_THREADS": "1"}  # no display; numeric libraries single-threaded (NPROC)


def python_job(bootstrap, folders, wall, memory_mb, config, env=None):
    """A Job running `python -I -B -c bootstrap` with QUIET_ENV (and `env`), its
    configuration on stdin (bootstrap reads it)."""
    return Job(["{python}", "-I", "-B", "-c", bootstrap], folders, wall, memory_mb,
               {**QUIET_ENV, **(env or {})}, config=config)


@dataclass
class Outcome:
    output: bytes = b""
    overflow: bool = False  # the job wrote more than OUTPUT_CAP bytes (and was stopped)
    returncode: int | None = None
    timed_out: bool = False
    too_many_processes: bool = False  # bwrap run as root: more than NPROC threads
    errors: bytes = b""  # the start of its stderr


@dataclass(frozen=True)
class Mode:
    name: str  # one of MODES
    detail: str  # one line for results.json and the console
    launcher: bool = False  # root: every job (bwrap, or the code itself) runs as a fresh uid
    exposed: tuple = ()  # folders a fresh uid reaches only through a private mount namespace
    poll: bool = False  # bwrap run as root: the grader counts the sandbox's threads


def fresh_uid():
    """A uid no account and no other job uses (random in FRESH_UIDS)."""
    return random.SystemRandom().randrange(*FRESH_UIDS)


def shared_tmp(mode):
    """Where to make folders a fresh uid must reach: /tmp when jobs run as another uid
    ($TMPDIR may be a private folder), else the usual temporary folder."""
    return "/tmp" if mode.launcher else None


@contextlib.contextmanager
def staging(mode, prefix):
    """A folder for the folders bound into jobs of `mode`, removed with all it holds
    afterwards. Mode 0711: a fresh uid may enter the folders in it whose names it knows,
    not list them (see stage_folder)."""
    parent = Path(tempfile.mkdtemp(prefix=prefix, dir=shared_tmp(mode)))
    try:
        os.chmod(parent, 0o711)
        yield parent
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def stage_folder(parent, name, files=None):
    """A folder in `parent` (from `staging`) that jobs may read, under an unguessable name
    (so in "uid" mode the processes of another submission cannot find it), holding copies of
    `files` (dict name there -> Path), readable by all."""
    folder = Path(parent) / f"{name}-{secrets.token_hex(8)}"
    folder.mkdir()
    os.chmod(folder, 0o755)
    for file_name, path in (files or {}).items():
        shutil.copyfile(path, folder / file_name)
        os.chmod(folder / file_name, 0o644)
    return folder


def python_paths():
    """Folders of the running interpreter and its venv (bound read-only into bwrap)."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.prefix).resolve(),
             Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent.parent}
    return sorted(p for p in paths if not str(p).startswith("/usr"))


def searchable_by_others(path):
    """True if a uid with no groups, owning nothing, can reach `path`: every folder from /
    down to it is searchable by others (and it is readable by them)."""
    path = Path(os.path.realpath(path))
    try:
        for folder in [*reversed(path.parents), path]:
            mode = os.stat(folder).st_mode
            if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
                return False
        return bool(os.stat(path).st_mode & stat.S_IROTH)
    except OSError:
        return False


def first_blocking_folder(path):
    """The outermost folder above `path` that others may not search, or None."""
    for folder in reversed(Path(os.path.realpath(path)).parents):
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder
    return None


def exposure(paths):
    """The folders of `paths` that a fresh uid cannot reach (see `expose`)."""
    return tuple(str(Path(os.path.realpath(p))) for p in paths if not searchable_by_others(p))


def check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def expose(paths, holder):
    """
    In the calling process (a child, still root): a new private mount namespace in which
    each of `paths` can be reached by any uid. Each path is first bound onto a mount point
    in `holder` (a folder of the grader's, one entry per path), then the first folder above
    it that others may not search is covered by a tmpfs (mode 755) and the path is bound back
    to its own place inside it; nothing else of that folder is visible.
    """
    check(LIBC.unshare(CLONE_NEWNS), "unshare")
    check(LIBC.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    covers = {}
    for index, path in enumerate(paths):
        held = os.path.join(holder, str(index))
        check(LIBC.mount(path.encode(), held.encode(), None, MS_BIND | MS_REC, None), path)
        covers.setdefault(str(first_blocking_folder(path)), []).append((path, held))
    for folder, items in covers.items():
        check(LIBC.mount(b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                         b"mode=755,size=1m"), f"tmpfs on {folder}")
        for path, held in items:
            if os.path.isdir(held):
                os.makedirs(path, mode=0o755, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                open(path, "a").close()
            check(LIBC.mount(held.encode(), path.encode(), None, MS_BIND | MS_REC, None), path)


@contextlib.contextmanager
def holder_for(paths):
    """A root-only folder of mount points, one per path (directory or file like it)."""
    if not paths:
        yield None
        return
    holder = tempfile.mkdtemp(prefix="hw4-hold-", dir="/tmp")  # never under a covered folder
    try:
        for index, path in enumerate(paths):
            point = os.path.join(holder, str(index))
            if os.path.isdir(path):
                os.mkdir(point)
            else:
                open(point, "w").close()
        yield holder
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def system_binds():
    """bwrap arguments for /usr and the merged-/usr links (or folders) beside it."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    return args


def bwrap_args(folders, python=True, info_fd=None, tmpfs_mb=TMPFS_MB):
    """The bwrap command line before the command itself (which starts with prlimit)."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", str(INSIDE_UID), "--gid", str(INSIDE_UID), "--hostname", "sandbox",
            *system_binds()]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    # /tmp first: a venv that lives under /tmp is then bound on top of it, not hidden by it
    args += ["--size", str(tmpfs_mb * 2**20), "--tmpfs", "/tmp"]
    for path in python_paths() if python else ():
        args += ["--ro-bind", str(path), str(path)]
    args += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys",
             "--dev", "/dev", "--remount-ro", "/dev"]
    for name, path in folders.items():
        args += ["--ro-bind", str(path), INSIDE[name]]
    return args + ["--remount-ro", "/", "--chdir", "/tmp", "--",
                   shutil.which("prlimit") or "/usr/bin/prlimit", f"--nproc={NPROC}:{NPROC}",
                   "--"]


def child_setup(memory_mb=None, cpu_seconds=None, uid=None, exposed=(), holder=None,
                nproc=None):
    """preexec_fn: the private mounts (as root), the uid, then memory, CPU time, file size,
    task and core-file limits."""
    def apply():
        if exposed:
            expose(exposed, holder)
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        if memory_mb is not None:
            memory = memory_mb * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if cpu_seconds is not None:
            cpu = int(cpu_seconds) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_MB * 2**20, FSIZE_MB * 2**20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    return apply


def probe(command, mode=None, timeout=20):
    """True if `command` runs and exits 0 (started as jobs of `mode` are)."""
    uid = fresh_uid() if mode is not None and mode.launcher else None
    exposed = mode.exposed if mode is not None else ()
    try:
        with holder_for(exposed) as holder:
            run = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, timeout=timeout, cwd="/",
                                 preexec_fn=child_setup(uid=uid, exposed=exposed,
                                                        holder=holder))
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        if uid is not None:
            kill_uid(uid)
    return run.returncode == 0


_MODES = {}


def choose_mode(requested="auto"):
    """The Mode to run student code in: `requested`, or the best available for "auto"."""
    if requested not in _MODES:
        _MODES[requested] = find_mode(requested)
    return _MODES[requested]


def bwrap_available():
    return shutil.which("bwrap") is not None and shutil.which("prlimit") is not None


def find_mode(requested):
    """Try, in order: bwrap run as a fresh uid (root only), bwrap run as ourselves, a fresh
    uid alone (root only), nothing."""
    root = os.geteuid() == 0
    python_check = [sys.executable, "-c", "import numpy"]
    exposed = exposure(python_paths())
    through = " (the Python install reached through a private mount namespace)" \
        if exposed else ""
    if requested in ("auto", "bwrap") and bwrap_available():
        candidates = [Mode("bwrap", f"bubblewrap sandbox (bwrap run as a fresh uid per job"
                                    f"{through}; no network, read-only files, {TMPFS_MB} MB "
                                    f"scratch, {NPROC} tasks)", True, exposed)] if root else []
        candidates.append(Mode(
            "bwrap", "bubblewrap sandbox (bwrap run as " + ("root: the grader counts each "
                     f"sandbox's threads every {POLL:g} s" if root else "the grader's user")
            + f"; no network, read-only files, {TMPFS_MB} MB scratch, {NPROC} tasks)",
            poll=root))
        for mode in candidates:
            if probe(bwrap_args({}) + python_check, mode):
                return mode
    uid_mode = Mode("uid", f"a fresh unprivileged uid per job{through}, one job at a time, "
                           f"{NPROC} tasks", True, exposed)
    if requested in ("auto", "uid") and root and probe(python_check, uid_mode):
        return uid_mode
    if requested in ("auto", "none"):
        if requested == "none":
            why = "asked for"
        else:
            why = ("bubblewrap cannot create namespaces here" if bwrap_available() else
                   "bubblewrap (and prlimit) is not installed") + ", and " + \
                  ("a fresh uid cannot run Python" if root else "the grader is not root")
        return Mode("none", f"ran WITHOUT isolation ({why})")
    raise RuntimeError(f"sandbox mode {requested!r} is not available on this machine")


def processes_of(uid, zombies=False):
    """Pids of the processes owned by `uid` (live ones only, unless `zombies`)."""
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid and (zombies or alive(int(entry.name))):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


_LOCK = {"fd": None, "depth": 0}


@contextlib.contextmanager
def exclusive(mode):
    """In "uid" mode, hold the machine-wide lock: no other job runs as any fresh uid until
    it is released (so nothing one job leaves can reach another). Re-entrant; a no-op in the
    other modes."""
    if mode.name != "uid":
        yield
        return
    if _LOCK["depth"] == 0:
        fd = os.open(UID_LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        if os.fstat(fd).st_uid != 0:
            os.close(fd)
            raise RuntimeError(f"{UID_LOCK} is not root's: remove it")
        fcntl.flock(fd, fcntl.LOCK_EX)
        _LOCK["fd"] = fd
    _LOCK["depth"] += 1
    try:
        yield
    finally:
        _LOCK["depth"] -= 1
        if _LOCK["depth"] == 0:
            os.close(_LOCK["fd"])
            _LOCK["fd"] = None


class Runner:
    """Runs jobs in one Mode; `run_all` returns only when every process of them is gone."""

    def __init__(self, mode):
        self.mode = mode

    def run_all(self, jobs):
        """Run `jobs` (at once; one after another in "uid" mode). Returns one Outcome per
        job, in order."""
        if self.mode.name == "uid":
            with exclusive(self.mode):
                return [self.run_batch([job])[0] for job in jobs]
        return self.run_batch(jobs)

    def run_batch(self, jobs):
        running = []
        try:
            with holder_for(self.mode.exposed) as holder:
                for job in jobs:
                    running.append(self.start(job, holder))
            collect(running, poll=self.mode.poll)
        finally:
            for run in running:
                run.stop()
            self.clean_up(running)
        return [run.outcome for run in running]

    def start(self, job, holder):
        uid = fresh_uid() if self.mode.launcher else None
        bwrap = self.mode.name == "bwrap"
        scratch = None
        if bwrap:
            paths = dict(INSIDE)
        else:
            scratch = Path(tempfile.mkdtemp(prefix="hw4-scratch-", dir=shared_tmp(self.mode)))
            if uid is not None:
                os.chown(scratch, uid, uid)
            paths = {**{k: str(v) for k, v in job.folders.items()}, "scratch": str(scratch)}
        paths["python"] = sys.executable
        args = [str(a).format(**paths) for a in job.args]
        info_read = info_write = None
        if bwrap:  # bwrap tells us its pid 1 (see Running.wait_for_pid1)
            info_read, info_write = os.pipe()
            args = bwrap_args(job.folders, job.python, info_write) + args
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": paths["scratch"],
               "TMPDIR": paths["scratch"], **job.env}
        setup = child_setup(job.memory_mb, job.wall, uid, self.mode.exposed, holder,
                            NPROC if self.mode.name == "uid" else None)
        try:
            process = subprocess.Popen(
                args, cwd=paths["scratch"] if not bwrap else "/", env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, pass_fds=() if info_write is None else (info_write,),
                preexec_fn=setup)
        except BaseException:
            if info_read is not None:
                os.close(info_read)
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        finally:
            if info_write is not None:
                os.close(info_write)
        feed(process, config_line(job.config, paths))
        return Running(process, time.monotonic() + job.wall, scratch, info_read, uid)

    def clean_up(self, running):
        """Nothing of the jobs survives: processes, scratch folders, files and IPC of the
        fresh uids."""
        for run in running:
            if run.uid is not None:
                kill_uid(run.uid)
                if self.mode.name == "uid":
                    remove_files_of(run.uid)
                    remove_ipc_of(run.uid)
            if run.scratch is not None:
                shutil.rmtree(run.scratch, ignore_errors=True)


def config_line(config, paths):
    """A job's configuration as the JSON line its stdin gets (b"" for none)."""
    if config is None:
        return b""
    filled = {key: value.format(**paths) if isinstance(value, str) else value
              for key, value in config.items()}
    return json.dumps(filled).encode() + b"\n"


def feed(process, data):
    """Write a job's stdin (its configuration, a few hundred bytes) and close it."""
    try:
        if data:
            process.stdin.write(data)
        process.stdin.close()
    except OSError:  # the job is already gone: its outcome says why
        pass


class Running:
    """One started job: its process, deadline, what it sent so far."""

    def __init__(self, process, deadline, scratch, info=None, uid=None):
        self.process = process
        self.deadline = deadline
        self.scratch = scratch
        self.info = info  # bwrap's --info-fd pipe
        self.uid = uid  # the fresh uid the job (or its bwrap) runs as, or None
        self.info_text = ""
        self.outcome = Outcome()
        self.chunks = []
        self.size = 0
        self.errors = b""
        self.done = False

    def take(self, data):
        if self.size + len(data) > OUTPUT_CAP:
            self.outcome.overflow = True
            self.stop()
            return
        self.chunks.append(data)
        self.size += len(data)

    def stop(self):
        """Kill the job's process group (in bwrap, this ends its whole pid namespace)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # children left in its group
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        if self.outcome.returncode is None:
            self.outcome.returncode = self.process.returncode
        self.wait_for_pid1()
        self.done = True

    def read_info(self):
        """What bwrap wrote on --info-fd so far: dict name -> int (child-pid, pid-namespace)."""
        if self.info is not None and len(self.info_text) < 4096:
            os.set_blocking(self.info, False)
            try:
                self.info_text += os.read(self.info, 4096).decode("ascii", "replace")
            except OSError:
                pass
        info = {}
        for name, number in re.findall(r'"([a-z-]+)":\s*(\d+)', self.info_text[:4096]):
            info.setdefault(name, int(number))
        return info

    def wait_for_pid1(self, timeout=None):
        """
        In bwrap, wait until the sandbox's pid 1 has exited: it got SIGKILL when bwrap died
        (--die-with-parent), and the kernel ends it only after every other process of its pid
        namespace is gone. So afterwards nothing of the student's is running.
        """
        if self.info is None:
            return
        pid1 = self.read_info().get("child-pid")
        os.close(self.info)
        self.info = None
        end = time.monotonic() + (PID1_WAIT if timeout is None else timeout)
        while pid1 and time.monotonic() < end and alive(pid1):
            time.sleep(0.005)


def collect(running, poll=False):
    """
    Read every job's stdout (and the start of its stderr) until it exits, overflows or
    passes its deadline. With `poll` (bwrap run as root, where RLIMIT_NPROC does not apply),
    a job is also stopped when its pid namespace holds more than NPROC threads (counted every
    POLL s).
    """
    selector = selectors.DefaultSelector()
    for run in running:
        for stream in (run.process.stdout, run.process.stderr):
            os.set_blocking(stream.fileno(), False)
            selector.register(stream, selectors.EVENT_READ, run)
    next_count = time.monotonic()
    while not all(run.done for run in running):
        for key, _ in selector.select(timeout=0.02):
            read_some(key.data, key.fileobj, selector)
        now = time.monotonic()
        if poll and now >= next_count:
            stop_crowded(running)
            next_count = now + POLL
        for run in running:
            if run.done:
                continue
            if run.process.poll() is not None:
                drain(run, selector)
                run.outcome.returncode = run.process.returncode
                run.stop()
            elif now > run.deadline:
                run.outcome.timed_out = True
                run.stop()
    for run in running:
        drain(run, selector)
        run.outcome.output = b"".join(run.chunks)
        run.outcome.errors = run.errors
        run.process.stdout.close()
        run.process.stderr.close()
    selector.close()


def threads_by_namespace(namespaces):
    """dict "pid:[N]" -> threads of the processes in that pid namespace (for `namespaces`)."""
    counts = dict.fromkeys(namespaces, 0)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            link = os.readlink(f"/proc/{entry.name}/ns/pid")
            if link not in counts:
                continue
            with open(f"/proc/{entry.name}/status") as f:
                threads = re.search(r"^Threads:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        counts[link] += int(threads.group(1)) if threads else 1
    return counts


def stop_crowded(running):
    """Stop the jobs whose pid namespace holds more than NPROC threads."""
    namespaces = {}
    for run in running:
        pidns = None if run.done else run.read_info().get("pid-namespace")
        if pidns is not None:
            namespaces[f"pid:[{pidns}]"] = run
    if not namespaces:
        return
    for link, count in threads_by_namespace(namespaces).items():
        if count > NPROC:
            namespaces[link].outcome.too_many_processes = True
            namespaces[link].stop()


def take_stream(run, stream, data):
    if stream is run.process.stderr:
        run.errors += data[:max(0, ERRORS_KEEP - len(run.errors))]
    elif not run.outcome.overflow:
        run.take(data)


def read_some(run, stream, selector):
    try:
        data = os.read(stream.fileno(), 1 << 16)
    except BlockingIOError:
        return
    except OSError:
        data = b""
    if data:
        take_stream(run, stream, data)
    else:
        selector.unregister(stream)


def drain(run, selector):
    """What is left in the pipes, without waiting for writers that are still alive."""
    for stream in (run.process.stdout, run.process.stderr):
        while not stream.closed and not (stream is run.process.stdout and run.outcome.overflow):
            try:
                data = os.read(stream.fileno(), 1 << 16)
            except (BlockingIOError, OSError):
                break
            if not data:
                with contextlib.suppress(KeyError, ValueError):
                    selector.unregister(stream)
                break
            take_stream(run, stream, data)


def alive(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_uid(uid, attempts=50):
    """SIGKILL every process of `uid` (forking ones too: repeat until none is left)."""
    for _ in range(attempts):
        if not processes_of(uid):
            return True
        pid = os.fork()
        if pid == 0:
            try:
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)  # every process this uid may signal
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.01)
    return not processes_of(uid)


_WRITABLE = []


def writable_folders():
    """Every folder a fresh uid may create files in: those writable by others that it can
    reach (each folder above searchable by others). Found once per process by walking the
    machine's files (about 1 s); /proc and /sys are skipped."""
    if not _WRITABLE:
        found, stack = set(WRITABLE_DIRS), ["/"]
        while stack:
            try:
                entries = list(os.scandir(stack.pop()))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.path in ("/proc", "/sys") or not entry.is_dir(follow_symlinks=False):
                        continue
                    mode = entry.stat(follow_symlinks=False).st_mode
                except OSError:
                    continue
                if mode & stat.S_IXOTH:
                    if mode & stat.S_IWOTH:
                        found.add(entry.path)
                    stack.append(entry.path)
        _WRITABLE.extend(sorted(found))
    return _WRITABLE


def remove_files_of(uid):
    """Remove what `uid` left in every folder it could write to (its folders, whole)."""
    for folder in writable_folders():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                continue


IPC_KINDS = {"shm": ("-m", "shmid"), "sem": ("-s", "semid"), "msg": ("-q", "msqid")}


def remove_ipc_of(uid):
    """Remove the System V shared memory, semaphores and message queues `uid` created or
    owns (they outlive their processes, and the next job could read them)."""
    args = []
    for kind, (flag, id_column) in IPC_KINDS.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                header, *rows = f.read().splitlines()
        except (OSError, ValueError):
            continue
        columns = header.split()
        for row in rows:
            values = dict(zip(columns, row.split(), strict=False))
            if str(uid) in (values.get("uid"), values.get("cuid")) and id_column in values:
                args += [flag, values[id_column]]
    if args and shutil.which("ipcrm"):
        subprocess.run(["ipcrm", *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
