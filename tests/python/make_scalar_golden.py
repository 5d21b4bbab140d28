#!/usr/bin/env python3
"""Writes events/tests/golden/python-json-scalars.json: random floats (as IEEE-754 bit
patterns, so the Rust side reads the exact value) and random strings, each with what
Python's json.dumps writes for it. Re-run only to extend the cases; the seed is fixed."""

import json
import math
import random
import struct
import sys

rng = random.Random(20261122)


def random_float():
    choice = rng.random()
    if choice < 0.5:  # any finite bit pattern
        while True:
            value = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
            if math.isfinite(value):
                return value
    if choice < 0.8:  # decimals people write
        return round(rng.uniform(-1e6, 1e6), rng.randint(0, 8))
    return float(f"{rng.randint(1, 9999)}e{rng.randint(-30, 30)}")  # around the notation switch


def random_string():
    alphabet = [chr(c) for c in range(0x00, 0x80)] + ["é", "ß", "—", "✓", "中", "\u2028", "\ufeff", "😀", "𝄞", "\U0010ffff"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


floats = [random_float() for _ in range(4000)] + [0.0, -0.0, 1e16, 1e-4, 1e-5, 9999999999999998.0, 5e-324, 1.7976931348623157e308]
cases = {
    "floats": [[format(struct.unpack("<Q", struct.pack("<d", f))[0], "016x"), json.dumps(f)] for f in floats],
    "strings": [[s, json.dumps(s)] for s in (random_string() for _ in range(2000))],
}
lines = []
for group, pairs in cases.items():
    rows = ",\n".join("  " + json.dumps(pair) for pair in pairs)
    lines.append(f'"{group}": [\n{rows}\n]')
sys.stdout.write("{\n" + ",\n".join(lines) + "\n}\n")
