"""dnsmasq - a real DNS server on a loopback port for tests.

It answers every name under .test with 127.0.0.1 (TTL 120 s) and NXDOMAIN
for every name under .invalid, and logs each query. Started and stopped by
its PID (a context manager), also on failure; the start waits on the server
answering, never on a fixed sleep.
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

from uvtest import Failure, stop

LOCAL_TTL_S = 120


def free_port():
    """A port free on 127.0.0.1 for both UDP and TCP (dnsmasq takes both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                    return port
                except OSError:
                    continue


def dns_answers(port, name="h0001.test"):
    """True once a server on 127.0.0.1:port answers an A query for name."""
    query = struct.pack(">HHHHHH", 0x5eed, 0x0100, 1, 0, 0, 0)
    query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    query += struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        try:
            s.sendto(query, ("127.0.0.1", port))
            reply, _ = s.recvfrom(512)
        except OSError:  # refused (not listening yet) or timed out
            return False
    return reply[:2] == query[:2]


def wait_for_dns(proc, port, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failure(f"dnsmasq exited ({proc.returncode}): {proc.stderr.read()}")
        if dns_answers(port):
            return
    raise Failure("dnsmasq did not answer in time")


def start_dnsmasq(port, extra=()):
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.path.exists(exe):
        raise Failure("dnsmasq is not installed (setup.sh installs dnsmasq-base)")
    log = tempfile.mktemp(prefix="dnsmasq-", suffix=".log")
    proc = subprocess.Popen([exe, "--keep-in-foreground", "--no-resolv", "--no-hosts",
                             "--listen-address=127.0.0.1", "--bind-interfaces",
                             f"--port={port}", "--pid-file=", "--user=root",
                             "--address=/test/127.0.0.1", "--address=/invalid/",
                             f"--local-ttl={LOCAL_TTL_S}",
                             "--log-queries", f"--log-facility={log}"] + list(extra),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, log



class Dnsmasq:
    """A running dnsmasq: .port, .log (its query log), stopped on exit.
    `extra`: more dnsmasq options (e.g. "--address=/test/::1" for AAAA)."""

    def __init__(self, extra=()):
        self.extra = list(extra)

    def __enter__(self):
        for attempt in range(5):  # the port can be taken between our check and dnsmasq's bind
            self.port = free_port()
            self.proc, self.log = start_dnsmasq(self.port, self.extra)
            try:
                wait_for_dns(self.proc, self.port)  # a query before it listens fails
                return self
            except Failure:
                stop(self.proc)
                if attempt == 4:
                    raise
        raise Failure("unreachable")

    def __exit__(self, *exc):
        stop(self.proc)
        return False


def main():
    """Run a program with the server's port appended to its arguments."""
    with Dnsmasq() as dns:
        rc = subprocess.call(sys.argv[1:] + [str(dns.port)])
    sys.exit(rc)


if __name__ == "__main__":
    main()
