#!/usr/bin/env python3
"""dashboard.py URL GUEST_STDIN GUEST_STDOUT - drives the dashboard in a real
browser (tests/t-dashboard.sh): Debian's chromium, headless, controlled
through the Chrome DevTools protocol over --remote-debugging-pipe (JSON
messages ended by NUL on fds 3 and 4: no websocket, no npm package, and
chromium never downloads anything).

The page is loaded while tests/obs/guest.c runs; the checks read the
rendered DOM and click like a user (Input.dispatchMouseEvent):
  - the table lists each named process with its state (worker-1:
    "receive [7]"), the totals agree, and a guest's markup name is text;
  - clicking a row shows that process's links and monitors;
  - clicking a column header sorts, typing in the filter filters;
  - after "stop" on the guest's stdin, the table and the count follow the
    workers' exits.
Each check prints "ok   NAME" or "FAIL NAME: why"; the last line is
"N passed, M failed". Every wait is bounded; the browser is stopped by
its pid (it is this script's child).
"""
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

url, guest_in, guest_out = sys.argv[1], sys.argv[2], sys.argv[3]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
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


class Browser:
    """chromium --remote-debugging-pipe: we write commands to its fd 3 and
    read replies and events from its fd 4."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="lunatic-chromium-")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # the child's ends go to fds 3 and 4 (dup2 makes them inheritable)
        hi_r, hi_w = os.dup(to_chrome_r), os.dup(from_chrome_w)

        def child_fds():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-extensions", "--disable-default-apps",
             "--mute-audio", "--user-data-dir=" + self.profile, "--window-size=1400,900",
             "--remote-debugging-pipe", "about:blank"],
            preexec_fn=child_fds, close_fds=False,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (to_chrome_r, from_chrome_w, hi_r, hi_w):
            os.close(fd)
        self.buf = b""
        self.next_id = 0
        self.session = None
        self.events = []

    def send(self, method, params=None, timeout=15):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                m = json.loads(raw)
                if m.get("id") == self.next_id:
                    if "error" in m:
                        raise RuntimeError("%s: %s" % (method, m["error"]))
                    return m.get("result", {})
                if "method" in m:
                    self.events.append(m)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(method)
            r, _, _ = select.select([self.from_chrome], [], [], left)
            if r:
                d = os.read(self.from_chrome, 1 << 16)
                if not d:
                    raise RuntimeError("chromium closed the pipe")
                self.buf += d

    def open(self, page):
        tid = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
        self.send("Runtime.enable")
        self.send("Page.enable")
        self.send("Page.navigate", {"url": page})

    def js(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise RuntimeError("JS: %s" % r["exceptionDetails"].get("text"))
        return r["result"].get("value")

    def wait(self, expr, timeout=15):
        """Polls until expr is truthy; returns its last value."""
        deadline = time.monotonic() + timeout
        v = None
        while time.monotonic() < deadline:
            try:
                v = self.js(expr)
            except RuntimeError:
                v = None
            if v:
                return v
            time.sleep(0.1)
        return v

    def click(self, selector):
        """A real click at the middle of the element."""
        box = self.js("(() => { const e = document.querySelector(%s); if (!e) return null;"
                      " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                      " return [r.left + r.width / 2, r.top + r.height / 2]; })()" % json.dumps(selector))
        if not box:
            return False
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1})
        return True

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)
        shutil.rmtree(self.profile, ignore_errors=True)


ROWS = ("[...document.querySelectorAll('#procs tbody tr')].map(tr => "
        "[tr.dataset.pid, tr.querySelector('.c-name').textContent, tr.querySelector('.c-state').textContent])")


def rows(b):
    return b.js(ROWS) or []


def state_of(rs, name):
    return [r[2] for r in rs if r[1] == name]


b = Browser()
try:
    b.open(url)
    b.wait("Number(document.body.dataset.updates) >= 2")
    rs = rows(b)
    names = sorted(r[1] for r in rs)
    check("the table lists every process", len(rs) == 11 and "worker-1" in names and "sleeper" in names,
          "%d rows: %s" % (len(rs), names))
    check("worker-1 is shown blocked in receive on tag 7", state_of(rs, "worker-1") == ["receive [7]"],
          state_of(rs, "worker-1"))
    check("the inbox waits for tag 99", state_of(rs, "inbox") == ["receive [99]"], state_of(rs, "inbox"))
    check("the sleeper sleeps", len(state_of(rs, "sleeper")) == 1 and state_of(rs, "sleeper")[0].startswith("sleep"),
          state_of(rs, "sleeper"))
    check("main waits on I/O (its stdin)", state_of(rs, "main") == ["io"], state_of(rs, "main"))
    check("the total shows 11 processes", b.js("document.getElementById('t-processes').textContent") == "11",
          b.js("document.getElementById('t-processes').textContent"))
    check("a markup name is shown as text, not markup",
          b.js("(() => { const c = [...document.querySelectorAll('#procs .c-name')].find(c => c.textContent === '<b>html</b>');"
               " return !!c && !c.querySelector('b'); })()"), "")
    check("the chart is drawn", b.js("document.getElementById('chart').width > 0"), "")

    # clicking main's row shows its links and monitors
    check("clicking main's row", b.click("#procs tr[data-pid='1']"), "no row for pid 1")
    got = b.wait("(() => { const l = document.querySelectorAll('#d-links li a'); return l.length === 5 ? l.length : 0; })()")
    check("its details list its 5 links", got == 5, "%s links listed: %s" % (got, b.js("document.getElementById('details').innerText")))
    sleeper = [r[0] for r in rs if r[1] == "sleeper"]
    mon = b.js("[...document.querySelectorAll('#d-monitoring li a')].map(a => a.dataset.pid)")
    check("and that it monitors the sleeper", mon == sleeper, "%s, sleeper %s" % (mon, sleeper))
    check("the graph draws main and its 6 neighbours",
          b.js("document.querySelectorAll('#graph g[data-pid]').length") == 6,
          b.js("document.querySelectorAll('#graph g[data-pid]').length"))
    # following a link: the details of worker-1 show main as its link, with tag 1
    w1 = [r[0] for r in rs if r[1] == "worker-1"][0]
    b.click("#d-links a[data-pid='%s']" % w1)
    got = b.wait("(() => { const h = document.querySelector('#details h2'); return h && h.textContent.includes('worker-1') ? document.getElementById('d-links').textContent : ''; })()")
    check("following a link shows worker-1, linked to main with tag 1", got and "1 (main) tag 1" in got, got)

    # sorting and filtering
    # a numeric column sorts largest first; a second click reverses it
    b.click("#procs th[data-key='mailbox_len']")
    first = b.wait("document.querySelector('#procs tbody tr .c-name').textContent === 'inbox'", 5)
    check("clicking 'mailbox' sorts the longest mailbox (the inbox) first", first,
          b.js("document.querySelector('#procs tbody tr .c-name').textContent"))
    b.click("#procs th[data-key='mailbox_len']")
    last = b.wait("document.querySelector('#procs tbody tr:last-child .c-name').textContent === 'inbox'", 5)
    check("clicking it again puts the inbox last", last,
          b.js("document.querySelector('#procs tbody tr:last-child .c-name').textContent"))
    b.click("#filter")
    b.send("Input.insertText", {"text": "worker"})
    n = b.wait("(() => { const n = document.querySelectorAll('#procs tbody tr').length; return n === 5 ? n : 0; })()", 5)
    check("typing 'worker' in the filter leaves the 5 workers", n == 5,
          [r[1] for r in rows(b)])
    b.js("(() => { const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input')); })()")

    # the guest ends its workers: the page follows
    with open(guest_in, "w") as f:
        f.write("stop\n")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(guest_out) as f:
            if "stopped" in f.read():
                break
        time.sleep(0.05)
    total = b.wait("(() => { const t = document.getElementById('t-processes').textContent; return t === '6' ? t : ''; })()")
    check("after the workers exit, the total drops to 6", total == "6",
          b.js("document.getElementById('t-processes').textContent"))
    left = [r[1] for r in rows(b)]
    check("and their rows are gone", len(left) == 6 and not any(x.startswith("worker") for x in left), left)
    b.click("#procs tr[data-pid='1']")
    got = b.wait("(() => { const h = document.querySelector('#details h2');"
                 " const l = document.getElementById('d-links');"
                 " return h && h.textContent.includes('process 1') && l && l.textContent === 'none'; })()")
    check("main's details show no link left", got, b.js("document.getElementById('details').innerText"))
    errors = [e for e in b.events if e.get("method") == "Runtime.exceptionThrown"]
    check("no script error on the page", not errors, errors[:2])
except Exception as e:  # a protocol failure is one failed check, with its reason
    check("the browser session", False, repr(e))
finally:
    b.close()

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
