"""What the client tests share: a throwaway `plcd --dev` on a fresh data directory (any free
port, its own PostgreSQL cluster and certificate), started and stopped around a test class.
Standard library only."""

import os
import re
import shutil
import ssl
import subprocess
import tempfile
import threading
import time


def make_data_dir(prefix):
    """Returns (tmp, data): a fresh directory the postgres user can reach, and plcd's data
    directory inside it."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o755)  # the postgres user must reach the cluster inside
    return tmp, os.path.join(tmp, "data")


def start_plcd(plcd, data_dir):
    """Starts `plcd --dev` and returns (process, url, admin password, SSL context trusting its
    certificate) once it listens; raises with plcd's output when it does not start."""
    proc = subprocess.Popen([plcd, "--dev", "--data-dir", data_dir, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    password = url = None
    lines = []
    deadline = time.monotonic() + 180
    for line in proc.stdout:
        lines.append(line)
        m = re.search(r"password: (\S+)", line)
        if m:
            password = m.group(1)
        m = re.search(r"listening on (\S+)", line)
        if m:
            url = m.group(1)
            break
        if time.monotonic() > deadline:
            break
    if not url or not password:
        proc.kill()
        raise RuntimeError("plcd did not start:\n" + "".join(lines))
    # Keep draining the output so plcd never blocks on a full pipe.
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    context = ssl.create_default_context(cafile=os.path.join(data_dir, "tls", "plc.crt"))
    return proc, url, password, context


def stop_plcd(proc, tmp):
    """Stops plcd with SIGTERM (SIGKILL after a minute) and removes `tmp`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stdout.close()
    shutil.rmtree(tmp, ignore_errors=True)
