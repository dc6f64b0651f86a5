# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A lying NTP server for the faults scenario: answers every client request (RFC 5905 server
mode, stratum 2) with the local time shifted by OFFSET seconds. Loopback only.
    usage: lying_ntp.py ADDRESS PORT OFFSET"""

import socket
import struct
import sys
import time

NTP_EPOCH = 2208988800  # 1900-01-01 to 1970-01-01


def stamp(seconds):
    return struct.pack("!II", int(seconds) + NTP_EPOCH, int((seconds % 1) * 2**32))


def main():
    address, port, offset = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    while True:
        request, peer = sock.recvfrom(512)
        if len(request) < 48:
            continue
        received = time.time() + offset
        # LI 0, version 4, mode 4 (server); stratum 2; poll as asked; precision 2^-20.
        head = struct.pack("!BBbb", (4 << 3) | 4, 2, request[2], -20)
        roots = struct.pack("!II", 0x00000100, 0x00000100) + b"LIAR"
        # The origin timestamp echoes the client's transmit timestamp (bytes 40-47), as chrony checks.
        reply = head + roots + stamp(received) + request[40:48] + stamp(received) + stamp(time.time() + offset)
        sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
