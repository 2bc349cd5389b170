#!/usr/bin/env python3
"""A hostile Redis for the tests: listens on 127.0.0.1, writes its port to
PORTFILE, and answers every connection the way MODE says:

  drip  an endless status reply, one byte every 0.5 s (each read a client
        makes gets a byte in time: a per-read timeout never trips)
  huge  a 300 MB bulk string, as fast as the client reads it

Each accepted connection appends a line to PORTFILE.log. The server exits
after LIFETIME seconds whatever happens, so a failed test leaves nothing.
"""
import os
import socket
import sys
import threading
import time


def serve(conn, mode):
    conn.settimeout(0.05)
    try:
        if mode == "drip":
            conn.sendall(b"+")
            while True:
                try:
                    conn.recv(65536)  # the commands: read and ignored
                except socket.timeout:
                    pass
                time.sleep(0.45)
                conn.sendall(b"x")
        else:
            try:
                conn.recv(65536)
            except socket.timeout:
                pass
            size = 300 * 1024 * 1024
            conn.settimeout(30)
            conn.sendall(b"$%d\r\n" % size)
            chunk = b"a" * 65536
            sent = 0
            while sent < size:
                conn.sendall(chunk)
                sent += len(chunk)
            conn.sendall(b"\r\n")
    except OSError:
        pass
    finally:
        conn.close()


def main():
    mode, portfile = sys.argv[1], sys.argv[2]
    lifetime = float(sys.argv[3]) if len(sys.argv) > 3 else 60
    threading.Timer(lifetime, lambda: os._exit(0)).start()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, portfile)
    while True:
        conn, _ = srv.accept()
        with open(portfile + ".log", "a") as f:
            f.write("connected\n")
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
