#!/usr/bin/env python3
"""One guest connection to the host's 127.0.0.1:PORT (scripts/guest-run --guestfwd).

QEMU's user networking runs this once per TCP connection the guest opens to 10.0.2.100:PORT
(`guestfwd=...-cmd:`), with the connection on stdin and stdout; it relays the bytes both ways to
127.0.0.1:PORT on the host and exits when either side closes. (The `-tcp:` form of guestfwd
opens one host connection when QEMU starts and multiplexes every guest connection onto it, so
a second request breaks.)
"""
import os
import selectors
import socket
import sys


def main() -> int:
    port = int(sys.argv[1])
    upstream = socket.create_connection(("127.0.0.1", port))
    guest_in, guest_out = sys.stdin.fileno(), sys.stdout.fileno()
    sel = selectors.DefaultSelector()
    sel.register(guest_in, selectors.EVENT_READ, "guest")
    sel.register(upstream, selectors.EVENT_READ, "host")
    open_sides = 2
    while open_sides:
        for key, _ in sel.select():
            if key.data == "guest":
                data = os.read(guest_in, 1 << 16)
                if not data:
                    sel.unregister(guest_in)
                    upstream.shutdown(socket.SHUT_WR)
                    open_sides -= 1
                else:
                    upstream.sendall(data)
            else:
                data = upstream.recv(1 << 16)
                if not data:
                    sel.unregister(upstream)
                    open_sides = 0
                else:
                    os.write(guest_out, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
