# arbor's Python worker: imports sympy once, then forks one child per request.
#
# Started by arbor (src/interp/worker.rs) as `python -B -c <this file>`, already inside the
# sandbox arbor set up before exec (namespaces, Landlock, seccomp). Each child is forked ahead
# of its request, applies the per-request limits and filters, then runs the code through
# tool.py and reports back over private pipes; the server answers arbor, then reaps the child
# and empties the working directory. Protocol on stdin/stdout: frames of a 4-byte big-endian
# length and UTF-8 JSON. In: the config, then requests. Out: "ready" (or "fatal"), then for
# each request "idle" (the previous one is cleaned up, the next child is ready) and the
# response.

import ctypes
import gc
import json
import os
import resource
import select
import signal
import struct
import sys
import time
import traceback
import types

MAX_FRAME = 64 << 20
# Bytes read from a child's result pipe; past this the result is rejected.
MAX_RESULT = 1 << 20
# An observation longer than this (only an error message can be) is cut in the middle.
MAX_OBSERVATION = 1 << 16

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2

_libc = ctypes.CDLL(None, use_errno=True)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _prctl(option, arg):
    if _libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0),
                   ctypes.c_ulong(0)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def read_exact(fd, n):
    chunks = []
    while n > 0:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd):
    header = read_exact(fd, 4)
    if header is None:
        return None
    (size,) = struct.unpack(">I", header)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is too large")
    body = read_exact(fd, size)
    if body is None:
        return None
    return json.loads(body.decode("utf-8"))


def write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_frame(fd, message):
    body = json.dumps(message, ensure_ascii=True).encode("ascii")
    write_all(fd, struct.pack(">I", len(body)) + body)


class SeccompFilters:
    """Programs compiled by arbor (seccompiler), installed by each child before running code."""

    def __init__(self, hex_programs):
        self.buffers = []
        self.programs = []
        for text in hex_programs:
            raw = bytes.fromhex(text)
            buffer = ctypes.create_string_buffer(raw, len(raw))
            self.buffers.append(buffer)
            self.programs.append(_SockFprog(len(raw) // 8, ctypes.addressof(buffer)))

    def install(self):
        if not self.programs:
            return
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        for program in self.programs:
            if _libc.prctl(ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(SECCOMP_MODE_FILTER),
                           ctypes.byref(program), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
                err = ctypes.get_errno()
                raise OSError(err, "installing the seccomp filter failed: " + os.strerror(err))


def become_namespace_init(fds):
    """Fork once so the server is pid 1 of the pid namespace arbor unshared for our children.

    The first process stays as a keeper that waits and exits with the server's status; the
    server dies with it (PDEATHSIG), and with the server every process of the namespace.
    """
    pid = os.fork()
    if pid != 0:
        for fd in fds:
            os.close(fd)
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def load_tool(source):
    module = types.ModuleType("arbor_tool")
    exec(compile(source, "arbor_tool.py", "exec"), module.__dict__)
    sys.modules["arbor_tool"] = module
    return module


def warm_up(tool):
    """Import what model code uses so that children start with it loaded."""
    info = {"sympy": None, "sympy_error": None, "numpy": None}
    try:
        import sympy
        from sympy import N, Rational, expand, factor, pi, simplify, solve, symbols

        x = symbols("x")
        solve(x**2 - 4, x)
        simplify((x + 1) ** 2 - x**2)
        expand((x + 1) ** 3)
        factor(x**2 - 1)
        N(pi, 10)
        Rational(1, 3) + Rational(1, 6)
        exec("from sympy import *", {})
        info["sympy"] = sympy.__version__
    except Exception as exc:
        info["sympy_error"] = f"{type(exc).__name__}: {exc}"
    try:
        import numpy

        info["numpy"] = numpy.__version__
    except Exception:
        pass
    tool.execute(["x = 1"], "print(x / 3)")
    return info


def apply_limits(limits):
    def lower(resource_id, value):
        if value is None:
            return
        soft, hard = resource.getrlimit(resource_id)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(resource_id, (value, value))

    lower(resource.RLIMIT_AS, limits.get("memory_bytes"))
    lower(resource.RLIMIT_FSIZE, limits.get("file_bytes"))
    lower(resource.RLIMIT_NOFILE, limits.get("open_files"))
    lower(resource.RLIMIT_NPROC, limits.get("tasks"))
    lower(resource.RLIMIT_CORE, 0)
    cpu = limits.get("cpu_seconds")
    if cpu is not None:
        # Soft limit sends SIGXCPU, the hard one a second later SIGKILL.
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def clean_text(text):
    # Lone surrogates (from print('\ud800')) cannot travel as UTF-8; show them escaped.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > MAX_OBSERVATION:
        half = MAX_OBSERVATION // 2
        cut = len(text) - 2 * half
        text = text[:half] + f"\n[... {cut} characters cut by arbor ...]\n" + text[-half:]
    return text


def child_main(config, request_fd, setup_fd, result_fd, filters, tool):
    """Runs in a forked child: limits and filters first, then it waits for its request and
    runs the code. Never returns.

    The setup outcome goes through its own pipe, closed before any code runs, so that code
    cannot forge it; the code's result goes through `result_fd`, closed before exiting so
    that the server need not wait for the address space to be torn down.
    """
    code = 71
    try:
        try:
            keep = sorted((request_fd, setup_fd, result_fd))
            os.closerange(3, keep[0])
            os.closerange(keep[0] + 1, keep[1])
            os.closerange(keep[1] + 1, keep[2])
            os.closerange(keep[2] + 1, 1 << 16)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.chdir(config["workdir"])
            apply_limits(config["limits"])
            filters.install()
        except BaseException:
            write_all(setup_fd, traceback.format_exc(limit=3).encode("utf-8", "replace"))
            return
        write_all(setup_fd, b"ok")
        os.close(setup_fd)
        request = read_frame(request_fd)
        os.close(request_fd)
        if request is None:  # the server went away before sending work
            code = 0
            return
        code = 72
        try:
            observation, raised = tool.execute(request["ancestors"], request["code"])
        except BaseException as exc:  # SystemExit, KeyboardInterrupt: report, do not die
            observation, raised = "{}: {}".format(type(exc).__name__, str(exc)).strip(), True
        payload = json.dumps({"observation": clean_text(observation), "raised": raised},
                             ensure_ascii=True).encode("ascii")
        write_all(result_fd, payload)
        os.close(result_fd)
        code = 0
    finally:
        os._exit(code)


class ArborGone(Exception):
    """arbor closed our stdin while a request ran: it exited or crashed."""


def read_all(fd, cap, watch):
    """Everything from `fd` until EOF; None when it exceeds `cap` bytes (the rest is drained).

    Meanwhile `watch` (our stdin) is watched: arbor sends nothing while a request runs, so it
    turning readable means arbor is gone, and the request must not outlive it.
    """
    chunks, size = [], 0
    while True:
        ready, _, _ = select.select([fd, watch], [], [])
        if watch in ready:
            raise ArborGone()
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        size += len(chunk)
        if size <= cap:
            chunks.append(chunk)
    return b"".join(chunks) if size <= cap else None


def parse_result(data):
    if data == b"":
        return None, None
    if data is None:
        return None, f"the result was larger than {MAX_RESULT} bytes"
    try:
        result = json.loads(data.decode("utf-8"))
    except Exception as exc:
        return None, f"the result was unreadable ({type(exc).__name__})"
    if not isinstance(result, dict):
        return None, "the result was not an object"
    return result, None


def empty_dir(path):
    import shutil

    def force(function, target, _exc):
        # A directory the code made unwritable: make it writable again and retry once.
        try:
            os.chmod(os.path.dirname(target) or target, 0o700)
            os.chmod(target, 0o700)
            function(target)
        except OSError:
            pass

    try:
        os.chmod(path, 0o700)
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, onerror=force)
            else:
                os.unlink(entry.path)
        except OSError:
            pass


def sweep(is_init):
    """Leave nothing behind: as pid 1 of our namespace, kill every other process in it."""
    if is_init:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if not is_init:
                break
            time.sleep(0.001)


class Child:
    """A forked child that has set up its sandbox and waits for one request."""

    def __init__(self, config, filters, tool):
        request_read, self.request_write = os.pipe()
        self.setup_read, setup_write = os.pipe()
        self.result_read, result_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.request_write)
            os.close(self.setup_read)
            os.close(self.result_read)
            child_main(config, request_read, setup_write, result_write, filters, tool)
        os.close(request_read)
        os.close(setup_write)
        os.close(result_write)

    def close_pipes(self):
        for fd in (self.request_write, self.setup_read, self.result_read):
            try:
                os.close(fd)
            except OSError:
                pass

    def wait(self):
        while True:
            try:
                return os.waitpid(self.pid, 0)[1]
            except InterruptedError:
                continue


def serve(child, request, proto_in):
    """Runs `request` on the ready child; returns the response and whether the child's exit
    status still has to be read (it is only needed when the child left no valid result)."""
    response = {"signal": None, "exit_code": None, "result": None, "result_error": None,
                "setup_error": None}
    setup = read_all(child.setup_read, MAX_RESULT, proto_in)
    if setup != b"ok":
        status = child.wait()
        text = (setup or b"").decode("utf-8", "replace")
        response["setup_error"] = text or "the child died before its sandbox was set up"
        return response, status
    try:
        body = json.dumps(request, ensure_ascii=True).encode("ascii")
        write_all(child.request_write, struct.pack(">I", len(body)) + body)
    except OSError:
        pass  # the child died: its status says how
    os.close(child.request_write)
    child.request_write = -1
    result, result_error = parse_result(read_all(child.result_read, MAX_RESULT, proto_in))
    if isinstance(result, dict) and "observation" in result:
        response["result"] = result
        return response, None
    status = child.wait()
    if os.WIFSIGNALED(status):
        response["signal"] = os.WTERMSIG(status)
    else:
        response["exit_code"] = os.WEXITSTATUS(status)
    response["result"], response["result_error"] = result, result_error
    return response, status


def finish(child, status, config, is_init):
    """After answering: reap the child, kill anything left, empty the working directory.

    Returns False when the directory could not be emptied: the server must not serve again.
    """
    child.close_pipes()
    if status is None:
        child.wait()
    sweep(is_init)
    try:
        empty_dir(config["workdir"])
        return not os.listdir(config["workdir"])
    except Exception:
        return False


def main():
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    try:
        config = read_frame(proto_in)
        if config is None:
            return 0
        if config.get("pid_namespace"):
            become_namespace_init([proto_in, proto_out])
        is_init = os.getpid() == 1 and bool(config.get("pid_namespace"))
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            _prctl(PR_SET_DUMPABLE, 0)
        except OSError:
            pass
        filters = SeccompFilters(config.get("request_filters", []))
        tool = load_tool(config["tool_source"])
        info = warm_up(tool)
        gc.collect()
        gc.freeze()
        info.update({
            "kind": "ready",
            "python": sys.version.split()[0],
            "pid_namespace_init": is_init,
            "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        })
        write_frame(proto_out, info)
    except Exception:
        write_frame(proto_out, {"kind": "fatal", "error": traceback.format_exc(limit=5)})
        return 1
    while True:
        # The next child is forked and sets up its sandbox while arbor has no request for us.
        child = Child(config, filters, tool)
        write_frame(proto_out, {"kind": "idle"})
        request = read_frame(proto_in)
        if request is None:
            return 0
        try:
            response, status = serve(child, request, proto_in)
        except ArborGone:
            os.kill(child.pid, signal.SIGKILL)
            finish(child, None, config, is_init)
            return 0
        write_frame(proto_out, response)
        if not finish(child, status, config, is_init):
            return 3


if __name__ == "__main__":
    sys.exit(main())
