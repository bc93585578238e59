#!/usr/bin/env python3
"""Abusive HTTP clients against a running zinvold (issue 10, D4-D6).

Each subcommand is bounded in time and bytes and prints one line of figures;
it exits non-zero when the daemon did not hold its limits.

  flood PID PORT N HOLD      N idle connections held HOLD s: the daemon's CPU
                             time and log must stay small, /healthz must be
                             answered once they are gone
  slowloris PORT DEADLINE    a header line every 0.5 s: closed by DEADLINE s
  headers PID PORT MAX_MB    endless header lines: closed at once, RSS flat
  body PID PORT PATH LEN     POST with Content-Length LEN: 413 before the body
  chunked PID PORT PATH      chunked POST without end: 413 / closed, RSS flat
"""
import socket
import sys
import time


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, in ticks


def healthz(port, timeout):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
    s.close()
    return data.startswith(b"HTTP/1.1 200")


def closed(s):
    """True when the peer closed (EOF or reset), without blocking."""
    s.setblocking(False)
    try:
        return s.recv(65536) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def flood(pid, port, n, hold):
    cpu0 = cpu_s(pid)
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))  # queued in the backlog if not accepted
        socks.append(s)
    t0 = time.time()
    time.sleep(hold)
    cpu = cpu_s(pid) - cpu0
    for s in socks:
        s.close()
    # Once the flood is gone the listener must serve again, promptly.
    ok = False
    for _ in range(100):
        try:
            if healthz(port, 2):
                ok = True
                break
        except OSError:
            pass
        time.sleep(0.1)
    print(f"flood: {n} connections held {hold} s, daemon CPU {cpu:.2f} s, "
          f"healthz afterwards {'ok' if ok else 'FAILED'} after {time.time() - t0 - hold:.1f} s")
    if not ok:
        fail("listener does not answer after the flood")
    if cpu > hold * 0.15:
        fail(f"daemon used {cpu:.2f} s CPU in {hold} s of idle connections (busy loop)")


def slowloris(port, deadline):
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.time()
    s.sendall(b"POST /healthz HTTP/1.1\r\nHost: t\r\n")
    while time.time() - t0 < deadline + 10:
        if closed(s):
            took = time.time() - t0
            print(f"slowloris: closed after {took:.1f} s (deadline {deadline} s)")
            if took > deadline + 2:
                fail("closed late")
            return
        try:
            s.sendall(b"X-Slow: 1\r\n")
        except OSError:
            continue
        time.sleep(0.5)
    fail(f"slowloris connection still open after {deadline + 10} s")


def headers(pid, port, max_mb):
    rss0 = rss_kb(pid)
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    sent = 0
    line = b"X-Big: " + b"a" * 1000 + b"\r\n"
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        while sent < max_mb * 1024 * 1024:
            s.sendall(line * 64)
            sent += len(line) * 64
            if closed(s):
                break
    except OSError:
        pass
    time.sleep(0.3)
    grew = rss_kb(pid) - rss0
    print(f"headers: {sent / 1048576:.2f} MiB sent before the daemon closed, RSS +{grew} kB")
    if sent >= max_mb * 1024 * 1024:
        fail(f"{max_mb} MiB of headers accepted")
    # What the client could write includes the kernel's socket buffers on
    # both sides (several MiB on loopback); the daemon's RSS says what it read.
    if sent > 16 * 1024 * 1024:
        fail("more than 16 MiB of headers written before the close")
    if grew > 20 * 1024:
        fail(f"RSS grew by {grew} kB")


def read_status(s, timeout):
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except OSError:
        pass
    return data.split(b"\r\n", 1)[0]


def body(pid, port, path, length):
    rss0 = rss_kb(pid)
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              f"Content-Length: {length}\r\n\r\n".encode())
    sent = 0
    chunk = b"x" * 65536
    status = b""
    try:
        while sent < length:
            s.setblocking(False)
            try:
                d = s.recv(4096)
                status = d.split(b"\r\n", 1)[0] if d else b"(closed)"
                break
            except BlockingIOError:
                pass
            s.setblocking(True)
            s.settimeout(5)
            s.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    if not status:
        status = read_status(s, 5)
    grew = rss_kb(pid) - rss0
    print(f"body: Content-Length {length}: answer '{status.decode(errors='replace')}' "
          f"after {sent} body bytes sent, RSS +{grew} kB")
    if b" 413 " not in status + b" ":
        fail("no 413 for a body over the limit")
    # (Small bodies fit in the kernel's socket buffers: only the answer counts.)
    if length > 4 * 1024 * 1024 and sent >= length:
        fail("the whole body was taken before the answer")
    if grew > 20 * 1024:
        fail(f"RSS grew by {grew} kB")


def chunked(pid, port, path):
    rss0 = rss_kb(pid)
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
    sent = 0
    chunk = b"%x\r\n" % 16384 + b"y" * 16384 + b"\r\n"
    try:
        while sent < 32 * 1024 * 1024:
            if closed(s):
                break
            s.sendall(chunk)
            sent += 16384
    except OSError:
        pass
    time.sleep(0.3)
    grew = rss_kb(pid) - rss0
    print(f"chunked: closed after {sent} body bytes, RSS +{grew} kB")
    if sent >= 32 * 1024 * 1024:
        fail("32 MiB chunked body taken")
    if grew > 20 * 1024:
        fail(f"RSS grew by {grew} kB")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "flood":
        flood(int(args[0]), int(args[1]), int(args[2]), float(args[3]))
    elif cmd == "slowloris":
        slowloris(int(args[0]), float(args[1]))
    elif cmd == "headers":
        headers(int(args[0]), int(args[1]), int(args[2]))
    elif cmd == "body":
        body(int(args[0]), int(args[1]), args[2], int(args[3]))
    elif cmd == "chunked":
        chunked(int(args[0]), int(args[1]), args[2])
    else:
        fail("unknown command " + cmd)


if __name__ == "__main__":
    main()
