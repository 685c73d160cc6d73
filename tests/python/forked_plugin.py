"""pytest plugin: run each test in a forked child process and record every outcome.

Loaded by run_h5py_suite.sh with ``-p forked_plugin`` (this directory on PYTHONPATH).

* ``--rv-fork``: each test runs in a ``fork()``ed child, so a test that crashes the process
  (a segfault or an abort inside HDF5 or the connector) is reported as a failure of that test
  and the rest of the suite still runs.  The child sends its reports back through a pipe.
* ``--rv-results FILE``: writes one line per test, ``OUTCOME<TAB>NODEID<TAB>MESSAGE``, where OUTCOME is
  passed, failed, skipped, xfailed, xpassed or error (setup/teardown failure).  Lines are
  appended as tests finish, so a run that dies midway (without --rv-fork) still leaves the
  outcomes so far.
"""
import os
import pickle
import signal
import struct

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("rustvol")
    group.addoption("--rv-fork", action="store_true", default=False,
                    help="run each test in a forked child process")
    group.addoption("--rv-results", default=None,
                    help="write OUTCOME<TAB>NODEID lines to this file")


_results = {}
_messages = {}


def _message(report):
    lr = report.longrepr
    crash = getattr(lr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        text = crash.message
    elif isinstance(lr, tuple) and len(lr) == 3:
        text = str(lr[2])
    else:
        text = str(lr or "")
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[0].strip()[:300] if lines else ""


def _record(report):
    nodeid = report.nodeid
    prev = _results.get(nodeid)
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        else:
            outcome = report.outcome
        if prev != "error":
            _results[nodeid] = outcome
            if report.failed or report.skipped:
                _messages[nodeid] = _message(report)
    else:
        if report.failed:
            _results[nodeid] = "error"
            _messages[nodeid] = _message(report)
        elif report.skipped and prev is None:
            _results[nodeid] = "skipped"
            _messages[nodeid] = _message(report)


_out = None


def pytest_configure(config):
    global _out
    path = config.getoption("rv_results")
    if path and not hasattr(config, "workerinput"):
        _out = open(path, "w", buffering=1, encoding="utf-8")


def pytest_runtest_logreport(report):
    _record(report)


def pytest_runtest_logfinish(nodeid, location):
    if _out is not None and nodeid in _results:
        msg = _messages.get(nodeid, "").replace("\t", " ").replace("\n", " ")
        _out.write(f"{_results[nodeid]}\t{nodeid}\t{msg}\n")


def pytest_unconfigure(config):
    if _out is not None:
        _out.close()


def _read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 1 << 16)
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    config = item.config
    if not config.getoption("rv_fork"):
        return None
    from _pytest.runner import runtestprotocol

    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(rfd)
        code = 0
        try:
            reports = runtestprotocol(item, log=False, nextitem=None)
            data = [config.hook.pytest_report_to_serializable(config=config, report=r)
                    for r in reports]
            payload = pickle.dumps(data)
        except BaseException as e:  # noqa: BLE001 - anything must reach the parent
            payload = pickle.dumps(repr(e))
            code = 1
        try:
            os.write(wfd, struct.pack("<Q", len(payload)))
            view = memoryview(payload)
            while view:
                n = os.write(wfd, view)
                view = view[n:]
        finally:
            os._exit(code)
    os.close(wfd)
    raw = _read_all(rfd)
    os.close(rfd)
    _, status = os.waitpid(pid, 0)
    reports = None
    if len(raw) >= 8:
        (n,) = struct.unpack("<Q", raw[:8])
        if len(raw) == 8 + n:
            data = pickle.loads(raw[8:])
            if isinstance(data, list):
                reports = [config.hook.pytest_report_from_serializable(config=config, data=d)
                           for d in data]
    if reports is None:
        if os.WIFSIGNALED(status):
            why = f"test process killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
        else:
            why = f"test process exited with status {os.WEXITSTATUS(status)} without a report"
        from _pytest.reports import TestReport
        reports = [TestReport(item.nodeid, item.location, {}, "failed", why, "call", [], 0.0)]
    for rep in reports:
        ihook.pytest_runtest_logreport(report=rep)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
