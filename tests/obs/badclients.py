#!/usr/bin/env python3
"""badclients.py HOST:PORT - bad clients against an observability endpoint
(tests/t-obs.sh). Each check prints "ok   NAME" or "FAIL NAME: why"; the
last line is "N passed, M failed". Every socket operation has a timeout.

  garbage        bytes that are not HTTP get 400 and a close
  tls            a TLS hello on the plain port gets 400
  oversized      a 100 KiB header block gets 431, a 64 KiB request line 414
  slowloris      a request sent a byte at a time, too slowly, gets 408
  idle x500      500 connections that send nothing stay open (or are closed
                 as newer ones come) while a scrape on a new connection is
                 answered at once
  after          once they are gone, /metrics still answers
"""
import select
import socket
import sys
import threading
import time

host, port = sys.argv[1].rsplit(":", 1)
port = int(port)
passed = failed = 0


def check(name, cond, why=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL %s: %s" % (name, why))
    sys.stdout.flush()


def connect(timeout=5):
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_all(s, limit=1 << 22):
    out = b""
    try:
        while len(out) < limit:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except (socket.timeout, ConnectionResetError):
        pass
    return out


def exchange(data, timeout=5):
    s = connect(timeout)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = read_all(s)
    s.close()
    return r


def status(resp):
    try:
        return int(resp.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def scrape():
    t0 = time.monotonic()
    r = exchange(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
    return status(r), r, time.monotonic() - t0


# slowloris, in a thread while the quick checks run: the server's request
# timeout is 10 s, and this sends a byte a second
slow = {}


def slowloris():
    s = connect(timeout=20)
    t0 = time.monotonic()
    try:
        for b in b"GET /metrics HTTP/1.1\r\nX-Slow: " + b"x" * 30:
            s.send(bytes([b]))
            # a byte a second, until the server answers (the time taken is
            # the server's, not that of sends into a closing socket)
            if select.select([s], [], [], 1.0)[0] or time.monotonic() - t0 > 15:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    slow["resp"] = read_all(s)
    slow["took"] = time.monotonic() - t0
    s.close()


t = threading.Thread(target=slowloris)
t.start()
r = exchange(b"\x00\x01\x02 hello there\r\n\r\n")
check("garbage gets 400", status(r) == 400, r[:80])
r = exchange(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 64 + b"\r\n\r\n")
check("a TLS hello gets 400", status(r) == 400, r[:80])
r = exchange(b"GET /metrics HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 100 * 1024 + b"\r\n\r\n")
check("100 KiB of headers gets 431", status(r) == 431, r[:80])
r = exchange(b"GET /" + b"a" * 64 * 1024 + b" HTTP/1.1\r\n\r\n")
check("a 64 KiB request line gets 414", status(r) == 414, r[:80])
r = exchange(b"PUT /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")
check("PUT gets 405", status(r) == 405, r[:80])

t.join(30)
resp, took = slow.get("resp", b""), slow.get("took", 99)
check("a slow request gets 408 within the timeout", status(resp) == 408 and took < 12,
      "%r after %.1f s" % (resp[:60], took))

# 500 idle connections
idle = []
refused = 0
for i in range(500):
    try:
        idle.append(connect())
    except OSError:
        refused += 1
code, r, took = scrape()
check("a scrape is answered while 500 connections idle", code == 200 and took < 3,
      "status %s after %.2f s (%d connects refused)" % (code, took, refused))
check("the scrape is whole", r.endswith(b"\n") and b"lunatic_process_spawned_total" in r,
      r[-200:])
open_ = 0
for s in idle:
    s.setblocking(False)
    try:
        d = s.recv(1)
        if d:
            open_ += 1   # answered something: not idle
    except BlockingIOError:
        open_ += 1       # still open, nothing to read
    except OSError:
        pass
    s.close()
check("idle connections beyond the limit were closed, newer ones kept",
      0 < open_ <= 300, "%d of 500 still open" % open_)
code, r, took = scrape()
check("after the idle connections, /metrics still answers", code == 200, "status %s" % code)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
