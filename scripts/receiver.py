#!/usr/bin/python3
"""HTTP test receiver for mercuryctl's tests (standard library only).

    receiver.py --port-file FILE [--port N] [--bind 127.0.0.1]
                [--tls NAME:PORTFILE:CERT:KEY]...

Listens (port 0: a free one), then writes the port to FILE atomically.
Each --tls adds a listener on a free port of the same address that serves
the same routes and the same request log over TLS with CERT and KEY (PEM
files); its port goes to PORTFILE, and every such port file is written
before FILE. A client that rejects the certificate costs one log line.
Requests that came over TLS carry "tls": NAME in their record.

Records every request except the /_* control routes and answers by path
prefix; segments after the ones a route uses are ignored, so callers add
unique suffixes (/status/404/my-test-1). A request in absolute form (GET
http://host/path, as a client sends it to an HTTP proxy) is answered by its
path and recorded with "proxied_to": host, so the receiver stands in for a
proxy.

Control routes (never recorded):
  /_health                  200 "ok"
  /_requests[?path_prefix=P] JSON list of recorded requests (oldest first)
  /_reset                   forget records and counters
  /_stats[?path_prefix=P]   {"count", "inflight", "max_inflight"}; with a
                            prefix, computed over the recorded requests whose
                            path starts with it (exact, from start/end event
                            order, not from clocks)
Behaviour routes:
  /status/CODE              answer CODE
  /delay/MS                 wait MS ms, then 200
  /hang                     read the request, never answer (until the client
                            goes away or 600 s)
  /flaky/KEY/N/CODE         first N requests for KEY answer CODE, then 200
  /retry-after/KEY/N/SECS[/CODE]
                            first N for KEY answer CODE (429) with
                            Retry-After: SECS, then 200
  /bytes/N[?chunked=1]      200 with an N-byte body (chunked: without
                            Content-Length)
  /redirect/N[/rest]        N > 0: 302 to /redirect/N-1/rest; 0: 200
  /echo                     200 with the recorded request as JSON
  /html                     200 with an HTML page (a login page where an
                            API was expected)
  /malformed                200 application/json that is cut off midway
Webhook stand-ins: each checks the body against its service's documented
format, records the verdict as "problems" (a list, empty when valid) and
answers as the service does: 200 "ok" (Slack), 204 (Discord), 202 JSON
(PagerDuty Events API v2), 200 JSON (mercury's json); 400 when invalid.
  /slack/...  /discord/...  /pagerduty/...  /mercury/...
  anything else             200 {"ok":true}

A record: {"id", "ts", "method", "path", "query", "headers", "body"} (or
"body_b64" when the body is not UTF-8); bodies are kept up to 1 MiB
("body_truncated" and "body_size" then say so); the last 10000 are kept.
"""

import argparse
import base64
import collections
import json
import os
import select
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit, unquote

MAX_RECORDS = 10000
MAX_RECORDED_BODY = 1 << 20
MAX_WAIT_S = 600.0
# Above the 20 s the TLS tests give their checks: under valgrind on a busy
# machine six handshakes at once took more than 10 s.
TLS_HANDSHAKE_S = 30.0
CHUNK = 64 * 1024


class Entry:
    """One recorded request and its place in the start/end event order."""

    __slots__ = ("record", "path", "start_seq", "end_seq")

    def __init__(self, record, path, start_seq):
        self.record = record
        self.path = path
        self.start_seq = start_seq
        self.end_seq = None


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.reset()

    def reset(self):
        self.entries = collections.deque(maxlen=MAX_RECORDS)
        self.next_id = 1
        self.count = 0
        self.counters = {}
        # inflight is a live gauge: a reset must not make it go negative.
        inflight = getattr(self, "inflight", 0)
        self.inflight = inflight
        self.max_inflight = inflight
        self.seq = getattr(self, "seq", 0)

    def begin(self, record, path):
        with self.lock:
            record["id"] = self.next_id
            self.next_id += 1
            self.count += 1
            self.inflight += 1
            if self.inflight > self.max_inflight:
                self.max_inflight = self.inflight
            self.seq += 1
            entry = Entry(record, path, self.seq)
            self.entries.append(entry)
            return entry

    def end(self, entry):
        with self.lock:
            self.inflight -= 1
            self.seq += 1
            entry.end_seq = self.seq

    def hit(self, key):
        """Counts a request for a flaky KEY; returns its number (1-based)."""
        with self.lock:
            n = self.counters.get(key, 0) + 1
            self.counters[key] = n
            return n

    def requests(self, prefix):
        with self.lock:
            return [e.record for e in self.entries
                    if prefix is None or e.path.startswith(prefix)]

    def stats(self, prefix):
        with self.lock:
            if prefix is None:
                return {"count": self.count, "inflight": self.inflight,
                        "max_inflight": self.max_inflight}
            events = []
            inflight = 0
            chosen = [e for e in self.entries if e.path.startswith(prefix)]
            for e in chosen:
                events.append((e.start_seq, 1))
                if e.end_seq is None:
                    inflight += 1
                else:
                    events.append((e.end_seq, -1))
            events.sort()
            level = peak = 0
            for _, d in events:
                level += d
                peak = max(peak, level)
            return {"count": len(chosen), "inflight": inflight,
                    "max_inflight": peak}


def _chars(s):
    return len(s) if isinstance(s, str) else 0


def _nonempty_str(v):
    return isinstance(v, str) and v.strip() != ""


def check_slack(doc):
    """Incoming webhook: text and/or blocks; Block Kit limits."""
    p = []
    if not isinstance(doc, dict):
        return ["body is not a JSON object"]
    if not _nonempty_str(doc.get("text")) and not doc.get("blocks"):
        p.append("needs text or blocks")
    if "text" in doc and not isinstance(doc["text"], str):
        p.append("text is not a string")
    blocks = doc.get("blocks", [])
    if not isinstance(blocks, list) or len(blocks) > 50:
        return p + ["blocks is not a list of at most 50"]
    for i, b in enumerate(blocks):
        if not isinstance(b, dict) or not _nonempty_str(b.get("type")):
            p.append("block %d has no type" % i)
            continue
        t = b.get("text")
        if b["type"] == "header":
            if not isinstance(t, dict) or t.get("type") != "plain_text" \
                    or not (1 <= _chars(t.get("text")) <= 150):
                p.append("header %d: plain_text of 1-150 chars" % i)
        elif b["type"] == "section":
            if t is not None and (not isinstance(t, dict) or
                                  not (1 <= _chars(t.get("text")) <= 3000)):
                p.append("section %d: text of 1-3000 chars" % i)
            fields = b.get("fields", [])
            if t is None and not fields:
                p.append("section %d: needs text or fields" % i)
            if len(fields) > 10 or any(
                    not isinstance(f, dict) or
                    not (1 <= _chars(f.get("text")) <= 2000) for f in fields):
                p.append("section %d: bad fields" % i)
        elif b["type"] == "context":
            els = b.get("elements")
            if not isinstance(els, list) or not (1 <= len(els) <= 10):
                p.append("context %d: 1-10 elements" % i)
    return p


def check_discord(doc):
    """Execute Webhook: content and/or embeds; embed limits."""
    p = []
    if not isinstance(doc, dict):
        return ["body is not a JSON object"]
    content = doc.get("content")
    embeds = doc.get("embeds", [])
    if not _nonempty_str(content) and not embeds:
        p.append("needs content or embeds")
    if content is not None and _chars(content) > 2000:
        p.append("content over 2000 chars")
    if not isinstance(embeds, list) or len(embeds) > 10:
        return p + ["embeds is not a list of at most 10"]
    for i, e in enumerate(embeds):
        total = _chars(e.get("title")) + _chars(e.get("description"))
        if _chars(e.get("title")) > 256:
            p.append("embed %d: title over 256" % i)
        if _chars(e.get("description")) > 4096:
            p.append("embed %d: description over 4096" % i)
        c = e.get("color")
        if c is not None and (not isinstance(c, int) or
                              not 0 <= c <= 0xFFFFFF):
            p.append("embed %d: color is not 0..0xFFFFFF" % i)
        fields = e.get("fields", [])
        if len(fields) > 25:
            p.append("embed %d: over 25 fields" % i)
        for f in fields:
            if not (1 <= _chars(f.get("name")) <= 256) or \
                    not (1 <= _chars(f.get("value")) <= 1024):
                p.append("embed %d: a field's name/value length" % i)
            total += _chars(f.get("name")) + _chars(f.get("value"))
        footer = e.get("footer") or {}
        if _chars(footer.get("text")) > 2048:
            p.append("embed %d: footer over 2048" % i)
        total += _chars(footer.get("text"))
        if total > 6000:
            p.append("embed %d: over 6000 chars in all" % i)
    return p


def check_pagerduty(doc):
    """Events API v2 alert event."""
    p = []
    if not isinstance(doc, dict):
        return ["body is not a JSON object"]
    if not _nonempty_str(doc.get("routing_key")):
        p.append("routing_key missing")
    action = doc.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        p.append("event_action is not trigger|acknowledge|resolve")
    dk = doc.get("dedup_key")
    if dk is not None and not (1 <= _chars(dk) <= 255):
        p.append("dedup_key is not 1-255 chars")
    if action in ("acknowledge", "resolve") and not _nonempty_str(dk):
        p.append("%s needs dedup_key" % action)
    if action == "trigger":
        pl = doc.get("payload")
        if not isinstance(pl, dict):
            return p + ["trigger needs payload"]
        if not (1 <= _chars(pl.get("summary")) <= 1024):
            p.append("payload.summary is not 1-1024 chars")
        if not _nonempty_str(pl.get("source")):
            p.append("payload.source missing")
        if pl.get("severity") not in ("critical", "error", "warning", "info"):
            p.append("payload.severity is not critical|error|warning|info")
    return p


def check_mercury(doc):
    """mercury.alert/v1, as mercuryctl-alert(1) documents it."""
    p = []
    if not isinstance(doc, dict):
        return ["body is not a JSON object"]
    if doc.get("schema") != "mercury.alert/v1":
        p.append("schema is not mercury.alert/v1")
    if doc.get("action") not in ("trigger", "resolve", "test"):
        p.append("action is not trigger|resolve|test")
    if doc.get("severity") not in ("info", "warning", "critical") and not (
            doc.get("action") == "resolve" and doc.get("severity") is None):
        p.append("severity is not info|warning|critical")
    for k in ("summary", "source", "dedup_key", "correlation_id",
              "timestamp", "webhook"):
        if not _nonempty_str(doc.get(k)):
            p.append(k + " missing")
    if not isinstance(doc.get("labels"), dict):
        p.append("labels is not an object")
    if not isinstance(doc.get("test"), bool):
        p.append("test is not a boolean")
    return p


WEBHOOKS = {
    "slack": check_slack,
    "discord": check_discord,
    "pagerduty": check_pagerduty,
    "mercury": check_mercury,
}


STATE = State()


def parse_int(s, lo, hi):
    try:
        v = int(s, 10)
    except (TypeError, ValueError):
        return None
    return v if lo <= v <= hi else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mc-receiver/1"
    # An idle keep-alive connection is dropped after this long.
    timeout = MAX_WAIT_S + 30

    def version_string(self):
        return self.server_version

    # -- plumbing -----------------------------------------------------

    def log_message(self, format, *args):  # noqa: A002 (stdlib name)
        pass

    def log_request(self, code="-", size="-"):
        command = getattr(self, "command", None)
        path = getattr(self, "path", "") or ""
        # Unparseable requests were logged by log_error already.
        if command is None or path.startswith("/_"):
            return
        sys.stderr.write("%s %s %s\n" % (command, path.split("?", 1)[0],
                                         code))

    def log_error(self, format, *args):  # noqa: A002
        text = (format % args).encode("ascii", "backslashreplace")
        sys.stderr.write("error: %s\n" % text.decode("ascii")[:160])

    def read_body(self):
        """Reads the whole body; returns (kept bytes, total size)."""
        kept = bytearray()
        total = 0
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    self.close_connection = True
                    break
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self.close_connection = True
                    break
                if size == 0:
                    # trailers up to the empty line
                    while True:
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                total += self._read_into(kept, size)
                self.rfile.readline(3)  # CRLF after the chunk
            return bytes(kept), total
        length = parse_int(self.headers.get("Content-Length", "0") or "0",
                           0, 1 << 40)
        if length is None:
            self.close_connection = True
            return b"", 0
        total = self._read_into(kept, length)
        return bytes(kept), total

    def _read_into(self, kept, size):
        got = 0
        while got < size:
            data = self.rfile.read(min(CHUNK, size - got))
            if not data:
                self.close_connection = True
                break
            got += len(data)
            room = MAX_RECORDED_BODY - len(kept)
            if room > 0:
                kept += data[:room]
        return got

    def reply(self, code, body=b"", ctype="application/json",
              headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        no_body = self.command == "HEAD" or code in (204, 304) or code < 200
        if code not in (204, 304) and code >= 200:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not no_body and body:
            self.wfile.write(body)

    def reply_json(self, code, obj, headers=None):
        self.reply(code, json.dumps(obj, separators=(",", ":")) + "\n",
                   headers=headers)

    def wait(self, seconds):
        STATE.stopping.wait(min(max(seconds, 0.0), MAX_WAIT_S))

    def hold(self):
        """Holds the connection without answering until the peer goes
        away, the receiver stops or MAX_WAIT_S passes."""
        sock = self.connection
        end = time.monotonic() + MAX_WAIT_S
        while not STATE.stopping.is_set():
            left = end - time.monotonic()
            if left <= 0:
                break
            try:
                r, _, _ = select.select([sock], [], [], min(left, 0.5))
                if r:
                    data = sock.recv(CHUNK)
                    if not data:
                        break
            except OSError:
                break
        self.close_connection = True

    # -- dispatch -----------------------------------------------------

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def handle_any(self):
        # A request in absolute form (GET http://host/path) came through
        # this receiver as an HTTP proxy: served as its path, recorded with
        # the host it was meant for.
        proxied = None
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            proxied = parts.netloc
            self.path = (parts.path or "/") + (
                "?" + parts.query if parts.query else "")
        raw_path, _, query = self.path.partition("?")
        if raw_path.startswith("/_"):
            self.read_body()
            self.control(raw_path, query)
            return
        body, size = self.read_body()
        record = {
            "id": 0,
            "ts": time.time(),
            "method": self.command,
            "path": raw_path,
            "query": query,
            "headers": self.header_dict(),
        }
        if proxied is not None:
            record["proxied_to"] = proxied
        tls = getattr(self.server, "tls_name", None)
        if tls is not None:
            record["tls"] = tls
        try:
            record["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            record["body_b64"] = base64.b64encode(body).decode("ascii")
        if size > len(body):
            record["body_truncated"] = True
            record["body_size"] = size
        entry = STATE.begin(record, raw_path)
        try:
            self.route(raw_path, record)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            STATE.end(entry)

    def header_dict(self):
        out = {}
        for k, v in self.headers.items():
            out[k] = out[k] + ", " + v if k in out else v
        return out

    def control(self, path, query):
        seg = path.split("/")
        name = seg[1] if len(seg) > 1 else ""
        qs = parse_qs(query)
        prefix = qs.get("path_prefix", [None])[0]
        if name == "_health":
            self.reply(200, "ok\n", ctype="text/plain")
        elif name == "_requests":
            self.reply_json(200, STATE.requests(prefix))
        elif name == "_reset":
            with STATE.lock:
                STATE.reset()
            self.reply_json(200, {"ok": True})
        elif name == "_stats":
            self.reply_json(200, STATE.stats(prefix))
        else:
            self.reply_json(404, {"error": "unknown control route"})

    def route(self, path, record):
        seg = path.split("/")[1:]
        name = seg[0] if seg else ""
        arg = seg[1:]

        if name == "status" and arg:
            code = parse_int(arg[0], 100, 599)
            if code is None:
                return self.reply_json(400, {"error": "bad status"})
            return self.reply_json(code, {"status": code})
        if name == "delay" and arg:
            ms = parse_int(arg[0], 0, int(MAX_WAIT_S * 1000))
            if ms is None:
                return self.reply_json(400, {"error": "bad delay"})
            self.wait(ms / 1000.0)
            return self.reply_json(200, {"ok": True, "delay_ms": ms})
        if name == "hang":
            self.hold()
            sys.stderr.write("%s %s held\n" % (self.command, path))
            return None
        if name == "flaky" and len(arg) >= 3:
            n = parse_int(arg[1], 0, 1 << 30)
            code = parse_int(arg[2], 100, 599)
            if n is None or code is None:
                return self.reply_json(400, {"error": "bad flaky route"})
            hit = STATE.hit(("flaky", arg[0]))
            if hit <= n:
                return self.reply_json(code, {"status": code, "hit": hit})
            return self.reply_json(200, {"ok": True, "hit": hit})
        if name == "retry-after" and len(arg) >= 3:
            n = parse_int(arg[1], 0, 1 << 30)
            code = parse_int(arg[3], 100, 599) if len(arg) >= 4 else 429
            secs = unquote(arg[2])
            if n is None or code is None or not secs:
                return self.reply_json(400, {"error": "bad retry-after route"})
            hit = STATE.hit(("retry-after", arg[0]))
            if hit <= n:
                return self.reply_json(code, {"status": code, "hit": hit},
                                       headers={"Retry-After": secs})
            return self.reply_json(200, {"ok": True, "hit": hit})
        if name == "bytes" and arg:
            n = parse_int(arg[0], 0, 1 << 32)
            if n is None:
                return self.reply_json(400, {"error": "bad size"})
            return self.send_bytes(n, "chunked=1" in record["query"])
        if name == "redirect" and arg:
            n = parse_int(arg[0], 0, 1000)
            if n is None:
                return self.reply_json(400, {"error": "bad redirect"})
            if n > 0:
                rest = "/".join(["", "redirect", str(n - 1)] + arg[1:])
                return self.reply_json(302, {"location": rest},
                                       headers={"Location": rest})
            return self.reply_json(200, {"ok": True})
        if name == "echo":
            return self.reply_json(200, record)
        if name == "html":
            return self.reply(200, "<!DOCTYPE html>\n<html><head><title>"
                              "Sign in</title></head><body><form>"
                              "</form></body></html>\n", ctype="text/html")
        if name == "malformed":
            return self.reply(200, '{"status":"success","data":{"resultType"'
                              ':"vector","result":[{"metric":{},"value":'
                              '[1795341600,"0.5"')
        if name in WEBHOOKS:
            return self.webhook(name, record)
        return self.reply_json(200, {"ok": True})

    def webhook(self, name, record):
        try:
            doc = json.loads(record.get("body", ""))
        except ValueError:
            problems = ["body is not JSON"]
        else:
            problems = WEBHOOKS[name](doc)
        with STATE.lock:
            record["problems"] = problems
        if problems:
            if name == "pagerduty":
                return self.reply_json(400, {"status": "invalid event",
                                             "message": "Event object is invalid",
                                             "errors": problems})
            return self.reply(400, "invalid_payload: " + "; ".join(problems),
                              ctype="text/plain")
        if name == "slack":
            return self.reply(200, "ok", ctype="text/plain")
        if name == "discord":
            return self.reply(204)
        if name == "pagerduty":
            return self.reply_json(202, {"status": "success",
                                         "message": "Event processed",
                                         "dedup_key": doc.get("dedup_key")})
        return self.reply_json(200, {"ok": True})

    def send_bytes(self, n, chunked):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        if self.command == "HEAD":
            return
        block = b"x" * CHUNK
        left = n
        while left > 0:
            k = min(left, CHUNK)
            if chunked:
                self.wfile.write(b"%x\r\n" % k + block[:k] + b"\r\n")
            else:
                self.wfile.write(block[:k])
            left -= k
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError,
                            socket.timeout, ssl.SSLEOFError,
                            ssl.SSLZeroReturnError)):
            return
        sys.stderr.write("error: %s: %r\n" % (type(exc).__name__, exc))


class TLSServer(Server):
    """The same server behind TLS. The handshake runs in the request's own
    thread (bounded by TLS_HANDSHAKE_S), so a slow or failing client never
    holds up the accept loop."""

    def __init__(self, addr, handler, name, cert, key):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["http/1.1"])
        self.tls_name = name
        self.tls_context = ctx
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        request.settimeout(TLS_HANDSHAKE_S)
        try:
            conn = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            sys.stderr.write("tls %s: handshake with %s:%d failed: %s\n"
                             % (self.tls_name, client_address[0],
                                client_address[1], e))
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            conn.close()


def parse_tls(spec):
    parts = spec.split(":")
    if len(parts) != 4 or not all(parts):
        raise argparse.ArgumentTypeError(
            "want NAME:PORTFILE:CERT:KEY, got %r" % spec)
    return parts


def write_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".receiver-port.", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class Stop(Exception):
    pass


def main():
    ap = argparse.ArgumentParser(description="mercuryctl test receiver")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--tls", type=parse_tls, action="append", default=[],
                    metavar="NAME:PORTFILE:CERT:KEY")
    args = ap.parse_args()

    def on_signal(signum, frame):
        raise Stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    try:
        server = Server((args.bind, args.port), Handler)
    except OSError as e:
        sys.stderr.write("receiver: cannot listen on %s:%d: %s\n"
                         % (args.bind, args.port, e))
        return 1
    extra = []
    try:
        for name, port_file, cert, key in args.tls:
            try:
                tls_server = TLSServer((args.bind, 0), Handler, name, cert,
                                       key)
            except (OSError, ssl.SSLError) as e:
                sys.stderr.write("receiver: tls %s: %s\n" % (name, e))
                return 1
            extra.append(tls_server)
            write_atomic(port_file, "%d\n" % tls_server.server_address[1])
            sys.stderr.write("receiver: tls %s listening on %s:%d\n"
                             % (name, args.bind,
                                tls_server.server_address[1]))
            threading.Thread(target=tls_server.serve_forever,
                             kwargs={"poll_interval": 0.5},
                             name="tls-" + name, daemon=True).start()
        write_atomic(args.port_file, "%d\n" % server.server_address[1])
        sys.stderr.write("receiver: listening on %s:%d\n"
                         % (args.bind, server.server_address[1]))
        server.serve_forever(poll_interval=0.5)
    except (Stop, KeyboardInterrupt):
        pass
    finally:
        STATE.stopping.set()
        # The TLS loops run in daemon threads: closing their sockets is
        # enough, the process exits next.
        for s in extra:
            s.server_close()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
