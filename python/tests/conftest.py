"""Fixtures shared by the test files."""

import os
import shutil
import subprocess
import time

import pytest


@pytest.fixture
def display_env():
    """The environment for a child that opens a window: this one when it has a display,
    else one with DISPLAY on an Xvfb server started for the test (skipped without Xvfb)."""
    env = dict(os.environ)
    xvfb = None
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        if shutil.which("Xvfb") is None:
            pytest.skip("no display and no Xvfb")
        display = f":{90 + os.getpid() % 9}"
        xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x900x24"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env["DISPLAY"] = display
        time.sleep(1.0)
    yield env
    if xvfb is not None:
        xvfb.terminate()
        xvfb.wait(timeout=10)


def interrupt_child(code, ready, wait_s, env=None):
    """Run `code` in a child Python, wait for its first line (`ready`), let it run
    `wait_s` seconds, send SIGINT: (return code, stdout, stderr, seconds from the
    signal to its exit)."""
    import signal
    import sys

    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    assert p.stdout.readline().strip() == ready
    time.sleep(wait_s)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    return p.returncode, out, err, time.monotonic() - t0
