#!/usr/bin/env python3
"""Writes core/tests/golden/pep440.json from Python's `packaging` (the reference Thoth uses):
each version string with its normalised form (null when invalid), and the valid ones sorted
newest first. Deterministic: the inputs are listed and generated with a fixed seed."""

import json
import random
import sys

from packaging.version import InvalidVersion, Version

rng = random.Random(440)
listed = [
    "1.0", "1.0.0", "1", "v1.0", "V2.3", " 1.2 ", "1.0a1", "1.0alpha1", "1.0-a1", "1.0.a.1", "1.0b2", "1.0beta2",
    "1.0c1", "1.0pre1", "1.0preview1", "1.0rc1", "1.0-rc.1", "1.0.post1", "1.0-1", "1.0-post1", "1.0.r1", "1.0rev1",
    "1.0.dev0", "1.0dev", "1.0-dev1", "1.0a1.dev2", "1.0.post1.dev3", "1!1.0", "2!0.1", "0!1.0", "1.0+local",
    "1.0+LOCAL.7", "1.0+abc-def_1", "1.0+1", "1.0+abc.5", "01.02.003", "1.0.0.0.0", "2021.10.5", "0.0.1",
    "1.0a", "1.0b", "1.0rc", "1.0post", "1.0.post", "21.3", "3.10", "3.9", "10.0.0", "1.0.0a0", "1.0.0.dev0",
    "1.0.0+0", "1.0.0.post0", "1.0.0.post0.dev0", "1.0a1.post2.dev3", "1.1.dev1", "1.1a1.dev1", "1.1a1",
    "2004d", "1.0-beta", "not a version", "", "1..0", "1.0.", ".1", "1.0+", "1.0++a", "=1.0", "1.0 a1",
    "latest", "*", "==1.0", "1.0.*", "1.0_a1", "1.0.RC.2", "1.0-1-1", "١.٠",
]


def generated():
    parts = []
    if rng.random() < 0.1:
        parts.append(f"{rng.randint(0, 3)}!")
    parts.append(".".join(str(rng.randint(0, 12)) for _ in range(rng.randint(1, 4))))
    if rng.random() < 0.3:
        parts.append(rng.choice(["a", "b", "rc", "alpha", "beta", "c", "-a", ".b"]) + str(rng.randint(0, 3)))
    if rng.random() < 0.2:
        parts.append(rng.choice([".post", "-", "post", ".rev", "-r"]) + str(rng.randint(0, 3)))
    if rng.random() < 0.2:
        parts.append(rng.choice([".dev", "dev", "-dev"]) + str(rng.randint(0, 3)))
    if rng.random() < 0.15:
        parts.append("+" + ".".join(rng.choice(["ubuntu", "1", "abc", "2", "Z9"]) for _ in range(rng.randint(1, 3))))
    return "".join(parts)


inputs = listed + [generated() for _ in range(1500)]
cases = []
valid = []
for text in inputs:
    try:
        version = Version(text)
    except InvalidVersion:
        cases.append([text, None])
        continue
    cases.append([text, str(version)])
    valid.append((version, str(version)))
newest_first = [text for _, text in sorted(valid, key=lambda pair: pair[0], reverse=True)]
rows = ",\n".join("  " + json.dumps(case, ensure_ascii=False) for case in cases)
order = ",\n".join("  " + json.dumps(text) for text in newest_first)
sys.stdout.write('{\n"normalised": [\n' + rows + '\n],\n"newest_first": [\n' + order + "\n]\n}\n")
