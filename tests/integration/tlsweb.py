"""tlsweb - HTTPS and HTTP/2 in front of testweb, for the integration tests.

Makes a test CA with openssl, a server certificate it signs for testweb's
host names (h0001.test ...), one for the wrong names, and one that expired
(openssl 3.0's `ca` command with -startdate/-enddate in the past), and starts
nginx (Debian's package, never as a service) as a TLS 1.3 + HTTP/2 (ALPN)
terminator in front of testweb:

    with Nginx(tw, certs) as ngx:   # ngx.port: good cert; ngx.port_wrong_name,
                                    # ngx.port_expired: the bad ones
        ngx.url(1, "/")             # https://h0001.test:PORT/

nginx runs in the foreground, one process (daemon off, master_process
off), with its configuration, pid, logs and temporary files in a temporary
directory, listening on 127.0.0.1 only; it is stopped by its PID when the
`with` block ends, also on failure. Readiness is a bounded wait on a
connection being accepted.
"""
import os
import socket
import subprocess
import tempfile
import time

from uvtest import Failure, stop

HOSTS_IN_CERT = 256  # h0001.test .. h0256.test are named in the certificates


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True,
                   timeout=60)


def _key_and_csr(d, name, cn):
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)


def _san_file(d, name, names):
    path = os.path.join(d, f"{name}.ext")
    with open(path, "w") as f:
        f.write("subjectAltName=" + ",".join(f"DNS:{n}" for n in names) + "\n")
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    return path


class Certs:
    """A CA and three server certificates in a temporary directory:
    good (testweb's names), wrong_name (other names), expired (testweb's
    names, valid in 2020 only). Attributes are file paths."""

    def __init__(self):
        d = self.dir = tempfile.mkdtemp(prefix="uvtest-tls-")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "3",
                 "-subj", "/CN=uvcrawl test CA", cwd=d)
        self.ca = os.path.join(d, "ca.crt")
        names = [f"h{h:04d}.test" for h in range(1, HOSTS_IN_CERT + 1)]
        for name, cn, sans in (("good", "h0001.test", names),
                               ("wrong", "other.example", ["other.example", "*.example"])):
            _key_and_csr(d, name, cn)
            _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                     "-CAcreateserial", "-out", f"{name}.crt", "-days", "3",
                     "-extfile", _san_file(d, name, sans), cwd=d)
        # openssl 3.0's x509 -req cannot back-date; its `ca` command can.
        os.makedirs(os.path.join(d, "newcerts"))
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("1000\n")
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write(f"[ca]\ndefault_ca=test_ca\n[test_ca]\ndir={d}\n"
                    f"database={d}/index.txt\nnew_certs_dir={d}/newcerts\nserial={d}/serial\n"
                    "default_md=sha256\npolicy=any\nunique_subject=no\n"
                    "[any]\ncommonName=supplied\n")
        _key_and_csr(d, "expired", "h0001.test")
        _openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key",
                 "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
                 "-extfile", _san_file(d, "expired", names), "-notext",
                 "-in", "expired.csr", "-out", "expired.crt", cwd=d)
        for name in ("good", "wrong", "expired"):
            setattr(self, name if name != "wrong" else "wrong_name",
                    (os.path.join(d, f"{name}.crt"), os.path.join(d, f"{name}.key")))


def free_port():
    """A port free on 127.0.0.1 now (nginx cannot be given port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failure(f"nginx exited ({proc.returncode}) before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.02)  # polling interval of a bounded wait, not a delay
    raise Failure(f"nginx: timed out waiting for port {port}")


def start_listening(cmd, ports):
    """Start a server in the foreground (its output discarded) and wait,
    bounded, until it accepts on every port; stopped by its PID if it
    does not. Returns the Popen; stop it with uvtest.stop()."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for port in ports:
            wait_listening(port, proc)
    except Exception:
        stop(proc, timeout=10)
        raise
    return proc


# Every server block passes requests to testweb over HTTP/1.1 keepalive.
PROXY = """    location / {
      proxy_pass http://testweb;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header Connection "";
      proxy_buffering off;
    }"""

# Access log: one line per request, tab-separated.
LOG_FIELDS = ["msec", "host", "uri", "status", "protocol", "ssl_protocol", "ssl_reused",
              "connection", "connection_requests", "request_time"]
LOG_FORMAT = ("'$msec\\t$host\\t$request_uri\\t$status\\t$server_protocol\\t$ssl_protocol\\t"
              "$ssl_session_reused\\t$connection\\t$connection_requests\\t$request_time'")


class Nginx:
    """nginx terminating TLS 1.3 and HTTP/2 in front of a running Testweb
    (which must have been started with --scheme https --link-port PORT,
    where PORT is `port`, known before: see Nginx.ports())."""

    def __init__(self, testweb_port, certs, port=None, plain_port=None, workers=1):
        """plain_port: also listen there without TLS (HTTP/1.1), with the
        same proxying, so that a benchmark compares TLS with the same hop.
        workers > 1: a master process and that many workers (the PID held
        is the master's; stopping it stops them)."""
        self.dir = tempfile.mkdtemp(prefix="uvtest-nginx-")
        self.port = port or free_port()
        self.plain_port = plain_port
        self.port_wrong_name = free_port()
        self.port_expired = free_port()
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = os.path.join(self.dir, "error.log")
        self.proc = None
        servers = ""
        for port, (crt, key) in ((self.port, certs.good),
                                 (self.port_wrong_name, certs.wrong_name),
                                 (self.port_expired, certs.expired)):
            servers += f"""
  server {{
    listen 127.0.0.1:{port} ssl http2;
    server_name _;
    ssl_certificate {crt};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.3;
    ssl_session_cache shared:tls{port}:1m;
{PROXY}
  }}"""
        if plain_port is not None:
            servers += f"""
  server {{
    listen 127.0.0.1:{plain_port};
    server_name _;
{PROXY}
  }}"""
        d = self.dir
        conf = f"""daemon off;
master_process {"on" if workers > 1 else "off"};
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/error.log info;
worker_rlimit_nofile 20000;
events {{ worker_connections 16384; }}
http {{
  log_format uvtest {LOG_FORMAT};
  access_log {self.access_log} uvtest;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  keepalive_requests 100000;
  http2_max_requests 100000;
  upstream testweb {{
    server 127.0.0.1:{testweb_port};
    keepalive 512;
  }}{servers}
}}
"""
        self.conf = os.path.join(d, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)

    def __enter__(self):
        self.proc = start_listening(
            ["nginx", "-c", self.conf, "-p", self.dir, "-e", self.error_log],
            (self.port, self.port_wrong_name, self.port_expired) +
            ((self.plain_port,) if self.plain_port is not None else ()))
        return self

    def __exit__(self, *exc):
        stop(self.proc, timeout=10)

    def url(self, host=1, path="/", port=None):
        return f"https://h{host:04d}.test:{port or self.port}{path}"

    def resolve_args(self):
        return [a for p in (self.port, self.port_wrong_name, self.port_expired)
                for a in ("--resolve", f"*.test:{p}:127.0.0.1")]

    def read_log(self):
        """The access log as dicts (stop nginx first, or read what is written)."""
        rows = []
        if not os.path.exists(self.access_log):
            return rows
        with open(self.access_log) as f:
            for line in f:
                if line.endswith("\n"):
                    rows.append(dict(zip(LOG_FIELDS, line.rstrip("\n").split("\t"))))
        return rows
