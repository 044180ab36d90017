#!/usr/bin/env python3
"""Write testdata/corpus/big-attachment.eml deterministically.

The attachment is 600 KiB (614,400 bytes) of pseudo-random binary data: SHA-256 in counter mode
over the seed b"smime big attachment", so every run produces the same bytes. The message is
multipart/mixed (a short text part plus the attachment, base64 in 76-character lines), CRLF
line endings, From Alice To Bob.

    python3 testdata/corpus/make-big.py
"""
import base64
import hashlib
import os
import struct

SIZE = 600 * 1024
SEED = b"smime big attachment"


def pseudo_random(n: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(SEED + struct.pack(">Q", counter)).digest()
        counter += 1
    return bytes(out[:n])


def main() -> None:
    data = pseudo_random(SIZE)
    b64 = base64.b64encode(data).decode("ascii")
    lines = [b64[i : i + 76] for i in range(0, len(b64), 76)]
    text = "\n".join(
        [
            "From: Alice <alice@example.com>",
            "To: Bob <bob@example.net>",
            "Subject: Big binary attachment (600 KiB)",
            "Date: Tue, 02 Sep 2025 09:10:00 +0200",
            "Message-ID: <corpus-10@example.com>",
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="big-boundary-10"',
            "",
            "--big-boundary-10",
            "Content-Type: text/plain; charset=us-ascii",
            "Content-Transfer-Encoding: 7bit",
            "",
            "Bob,",
            "",
            "The attached file holds 600 KiB of pseudo-random bytes.",
            f"SHA-256: {hashlib.sha256(data).hexdigest()}",
            "",
            "Alice",
            "",
            "--big-boundary-10",
            'Content-Type: application/octet-stream; name="random-600k.bin"',
            "Content-Transfer-Encoding: base64",
            'Content-Disposition: attachment; filename="random-600k.bin"',
            "",
            *lines,
            "--big-boundary-10--",
            "",
        ]
    )
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "big-attachment.eml")
    with open(path, "wb") as f:
        f.write(text.replace("\n", "\r\n").encode("ascii"))


if __name__ == "__main__":
    main()
