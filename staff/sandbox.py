"""Run untrusted student code sealed off from the grader, the reference and the results.

Three modes; `choose_mode()` picks the best one the machine allows:

- "bwrap": bubblewrap (https://github.com/containers/bubblewrap). New user, pid, network, ipc,
  uts and cgroup namespaces; --die-with-parent and --new-session (no signals to the grader,
  no TIOCSTI). The job sees read-only binds of /usr, the Python install, the venv and the
  job's own folders, a /tmp tmpfs of TMPFS_MB, a read-only /proc/sys and /dev, and runs as
  uid 65534 inside. When the grader is root and an unprivileged uid can run Python
  (Gradescope), bwrap itself runs as a uid of its own (BWRAP_UID_BASE + the grader's pid), so
  RLIMIT_NPROC applies per grader; otherwise as the grader's user (as root, where
  RLIMIT_NPROC does not apply, the grader counts the namespace's processes instead).
- "uid": where bwrap cannot run but the grader is root (a container without user
  namespaces): the job runs as the sandbox uid (`hw4student`, made by the autograder's
  setup.sh) with RLIMIT_NPROC; after the jobs every process of the uid is killed and its
  files in the world-writable folders are removed. Only one grader at a time uses the uid.
- "none": a plain subprocess in its own session (not root and no bwrap). Grading still
  works, and the grader says that it ran WITHOUT isolation.

Every job also gets resource limits (address space, CPU time, file size, no core files) and
a wall-clock deadline. A job's stdout is its only channel back, read by the grader with a
size cap; what it contains is untrusted and must be decoded with explicit limits.
"""

import fcntl
import os
import pwd
import re
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MODES = ("bwrap", "uid", "none")
SANDBOX_USER = "hw4student"
DEFAULT_UID = 64123  # used when there is no hw4student account (tests, staff machines)
BWRAP_UID_BASE = 1_000_000  # bwrap run by root: as uid BASE + our pid, one per grader process
INSIDE_UID = 65534
TMPFS_MB = 64
FSIZE_MB = 64
NPROC = 128  # processes (and threads) of one submission's jobs
OUTPUT_CAP = 8 * 2**20  # bytes a job may send back on stdout
PID_CHECK = 0.1  # seconds between counts of a sandbox's processes where RLIMIT_NPROC fails
WRITABLE_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
INSIDE = {"code": "/sandbox/code", "harness": "/sandbox/harness", "scratch": "/tmp"}


@dataclass
class Job:
    """A command to run sandboxed. `args` may use {code}, {harness}, {scratch}, {python}."""

    args: list
    folders: dict  # "code"/"harness" -> outside Path, bound read-only
    wall: float  # seconds
    memory_mb: int
    env: dict = field(default_factory=dict)
    python: bool = True  # bind the Python install and venv (False: system tools only)


@dataclass
class Outcome:
    output: bytes = b""
    overflow: bool = False  # the job wrote more than OUTPUT_CAP bytes (and was stopped)
    returncode: int | None = None
    timed_out: bool = False
    too_many_processes: bool = False  # bwrap run as root: more than NPROC in its namespace


@dataclass
class Mode:
    name: str  # one of MODES
    detail: str  # one line for results.json and the console
    uid: int | None = None  # the uid jobs (or bwrap) run as; None: the grader's own


def shared_tmp(mode):
    """Where to make folders the sandbox uid must reach: /tmp when jobs run as another uid
    ($TMPDIR may be a private folder), else the usual temporary folder."""
    return "/tmp" if mode.uid is not None else None


def sandbox_uid():
    """The uid student code runs as in "uid" mode (and bwrap's outside uid when root)."""
    try:
        return pwd.getpwnam(SANDBOX_USER).pw_uid
    except KeyError:
        return DEFAULT_UID


def python_paths():
    """Folders of the running interpreter and its venv (bound read-only into bwrap)."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.prefix).resolve(),
             Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent.parent}
    return sorted(p for p in paths if not str(p).startswith("/usr"))


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
    """The bwrap command line before the command itself."""
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
    return args + ["--remount-ro", "/", "--chdir", "/tmp", "--"]


def probe(command, uid=None, timeout=20):
    """True if `command` runs and exits 0 (as `uid` if given)."""
    kwargs = {"user": uid, "group": uid, "extra_groups": []} if uid is not None else {}
    try:
        run = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, timeout=timeout, cwd="/", **kwargs)
    except (OSError, subprocess.SubprocessError):
        return False
    return run.returncode == 0


_MODES = {}


def choose_mode(requested="auto"):
    """The Mode to run student code in: `requested`, or the best available for "auto"."""
    if requested not in _MODES:
        _MODES[requested] = find_mode(requested)
    return _MODES[requested]


def find_mode(requested):
    """Try, in order: bwrap run as the sandbox uid (root only), bwrap run as ourselves, the
    sandbox uid alone (root only), nothing."""
    root = os.geteuid() == 0
    uid = sandbox_uid()
    python_check = [sys.executable, "-c", "import numpy"]
    uid_works = root and probe(python_check, uid)
    has_bwrap = shutil.which("bwrap") is not None
    if requested in ("auto", "bwrap") and has_bwrap:
        for launcher in ([uid] if uid_works else []) + [None]:
            if probe(bwrap_args({}) + python_check, launcher):
                outside = f"uid {uid}" if launcher is not None else "the grader's user"
                return Mode("bwrap", f"bubblewrap sandbox (bwrap run as {outside}; no "
                                     f"network, read-only files, {TMPFS_MB} MB scratch)", launcher)
    if requested in ("auto", "uid") and uid_works:
        return Mode("uid", f"unprivileged uid {uid} with process and file limits", uid)
    if requested in ("auto", "none"):
        if requested == "none":
            why = "asked for"
        else:
            why = ("bubblewrap cannot create namespaces here" if has_bwrap else
                   "bubblewrap is not installed") + ", and " + \
                  (f"uid {uid} cannot run {sys.executable}" if root else "the grader is not root")
        return Mode("none", f"ran WITHOUT isolation ({why})")
    raise RuntimeError(f"sandbox mode {requested!r} is not available on this machine")


def limiter(memory_mb, cpu_seconds, nproc):
    """preexec_fn: memory, CPU time, file size, processes, no core dumps."""
    def apply():
        memory = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(cpu_seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_MB * 2**20, FSIZE_MB * 2**20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    return apply


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


def count_processes(uid):
    """What RLIMIT_NPROC counts for `uid`: its processes, zombies not yet reaped included."""
    return len(processes_of(uid, zombies=True))


class Runner:
    """Runs jobs in one Mode; `run_all` returns only when every process of them is gone."""

    def __init__(self, mode):
        self.mode = mode
        self.uid = mode.uid  # the uid the jobs (or bwrap) run as; None: ours
        if mode.name == "bwrap" and mode.uid is not None:
            # RLIMIT_NPROC counts every process of a uid: graders running in parallel each
            # get their own, so one submission's fork bomb cannot starve another's jobs.
            self.uid = BWRAP_UID_BASE + os.getpid()

    def nproc(self):
        """RLIMIT_NPROC: NPROC more than the uid has (zombies of an earlier run count too)."""
        if self.uid is not None:
            return count_processes(self.uid) + NPROC
        if os.geteuid() != 0 and self.mode.name == "bwrap":
            return count_processes(os.getuid()) + NPROC
        return None  # root: RLIMIT_NPROC does not apply

    def start(self, job, nproc):
        scratch = None
        if self.mode.name == "bwrap":
            paths = dict(INSIDE)
        else:
            scratch = Path(tempfile.mkdtemp(prefix="hw4-scratch-", dir=shared_tmp(self.mode)))
            if self.mode.uid is not None:
                os.chown(scratch, self.mode.uid, self.mode.uid)
            paths = {**{k: str(v) for k, v in job.folders.items()}, "scratch": str(scratch)}
        paths["python"] = sys.executable
        args = [str(a).format(**paths) for a in job.args]
        info_read = info_write = None
        if self.mode.name == "bwrap":  # bwrap tells us its pid 1 (see Running.wait_for_pid1)
            info_read, info_write = os.pipe()
            args = bwrap_args(job.folders, job.python, info_write) + args
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": paths["scratch"],
               "TMPDIR": paths["scratch"], **job.env}
        kwargs = {}
        if self.uid is not None:
            kwargs = {"user": self.uid, "group": self.uid, "extra_groups": []}
        try:
            process = subprocess.Popen(
                args, cwd=paths["scratch"] if self.mode.name != "bwrap" else "/", env=env,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                start_new_session=True, pass_fds=() if info_write is None else (info_write,),
                preexec_fn=limiter(job.memory_mb, job.wall, nproc), **kwargs)
        finally:
            if info_write is not None:
                os.close(info_write)
        return Running(process, time.monotonic() + job.wall, scratch, info_read)

    def run_all(self, jobs):
        """Run `jobs` at once. Returns one Outcome per job, in order."""
        lock = self.lock()
        running = []
        try:
            nproc = self.nproc()  # one limit for all the jobs: they share the uid
            running = [self.start(job, nproc) for job in jobs]
            collect(running, count_pids=self.mode.name == "bwrap" and nproc is None)
        finally:
            for run in running:
                run.stop()
            self.clean_up(running)
            if lock is not None:
                os.close(lock)
        return [run.outcome for run in running]

    def lock(self):
        """In "uid" mode, one grader at a time: the cleanup kills every process of the uid."""
        if self.mode.name != "uid":
            return None
        fd = os.open(f"/tmp/hw4-sandbox-{self.mode.uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def clean_up(self, running):
        """Nothing of the jobs survives: processes, scratch folders, files of the uid."""
        if self.mode.name == "uid":
            kill_uid(self.mode.uid)
            remove_files_of(self.mode.uid)
        for run in running:
            if run.scratch is not None:
                shutil.rmtree(run.scratch, ignore_errors=True)


class Running:
    """One started job: its process, deadline, what it sent so far."""

    def __init__(self, process, deadline, scratch, info=None):
        self.process = process
        self.deadline = deadline
        self.scratch = scratch
        self.info = info  # bwrap's --info-fd pipe
        self.info_text = ""
        self.outcome = Outcome()
        self.chunks = []
        self.size = 0
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

    def wait_for_pid1(self, timeout=5.0):
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
        end = time.monotonic() + timeout
        while pid1 and time.monotonic() < end and alive(pid1):
            time.sleep(0.005)


def collect(running, count_pids=False):
    """
    Read every job's stdout until it exits, overflows or passes its deadline. With
    `count_pids` (bwrap run as root, where RLIMIT_NPROC does not apply), a job is also stopped
    when its pid namespace holds more than NPROC processes (counted every PID_CHECK s).
    """
    selector = selectors.DefaultSelector()
    for run in running:
        os.set_blocking(run.process.stdout.fileno(), False)
        selector.register(run.process.stdout, selectors.EVENT_READ, run)
    next_count = time.monotonic()
    while not all(run.done for run in running):
        for key, _ in selector.select(timeout=0.02):
            read_some(key.data, selector)
        now = time.monotonic()
        if count_pids and now >= next_count:
            stop_crowded(running)
            next_count = now + PID_CHECK
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
        run.process.stdout.close()
    selector.close()


def stop_crowded(running):
    """Stop the jobs whose pid namespace holds more than NPROC processes."""
    namespaces = {}
    for run in running:
        pidns = None if run.done else run.read_info().get("pid-namespace")
        if pidns is not None:
            namespaces[f"pid:[{pidns}]"] = run
    if not namespaces:
        return
    counts = dict.fromkeys(namespaces, 0)
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                link = os.readlink(f"/proc/{entry.name}/ns/pid")
            except OSError:
                continue
            if link in counts:
                counts[link] += 1
    for link, count in counts.items():
        if count > NPROC:
            namespaces[link].outcome.too_many_processes = True
            namespaces[link].stop()


def read_some(run, selector):
    try:
        data = os.read(run.process.stdout.fileno(), 1 << 16)
    except BlockingIOError:
        return
    except OSError:
        data = b""
    if data and not run.outcome.overflow:
        run.take(data)
    elif not data:
        selector.unregister(run.process.stdout)


def drain(run, selector):
    """What is left in the pipe, without waiting for writers that are still alive."""
    if run.process.stdout.closed or run.outcome.overflow:
        return
    while True:
        try:
            data = os.read(run.process.stdout.fileno(), 1 << 16)
        except (BlockingIOError, OSError):
            return
        if not data:
            try:
                selector.unregister(run.process.stdout)
            except (KeyError, ValueError):
                pass
            return
        run.take(data)
        if run.outcome.overflow:
            return


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


def remove_files_of(uid):
    """Remove what `uid` left at the top of the world-writable folders."""
    for folder in WRITABLE_DIRS:
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
