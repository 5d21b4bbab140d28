#!/usr/bin/env python3
"""The demo feed of `scripts/run.sh`: what Thoth's components would send the investigator in a
busy minute, for a few dozen real PyPI packages, with failures mixed in.

    demo_feed.py OUTPUT_DIR

writes into OUTPUT_DIR:
  documents/     solver documents (thoth-solver's format) for every package below, solved on
                 solver-rhel-8-py38; three of them report a solver error, as failed solves do
  messages.json  a messaging-CLI file (`investigator emit --from-file`): package releases,
                 unresolved packages for the other solvers, solved packages, missing versions,
                 a hash mismatch, CVEs, source-distribution flags
  bad.jsonl      raw records that are not valid Thoth messages (one JSON object per line:
                 {"topic": <base name>, "payload": <text>}), for the dead-letter topic
  osv/           three OSV advisories that affect demo packages (`investigator import-cves`)

Only the standard library; the output is the same on every run (no randomness, no clock).
"""

import hashlib
import json
import sys
from pathlib import Path

PYPI = "https://pypi.org/simple"

# name, version, license, dependencies: (name, specifier, versions the index offered)
PACKAGES = [
    ("flask", "2.0.2", "BSD-3-Clause", [("werkzeug", ">=2.0", ["2.0.1", "2.0.2"]), ("jinja2", ">=3.0", ["3.0.1", "3.0.3"]),
                                        ("itsdangerous", ">=2.0", ["2.0.1"]), ("click", ">=7.1.2", ["8.0.1", "8.0.3"])]),
    ("werkzeug", "2.0.2", "BSD-3-Clause", []),
    ("jinja2", "3.0.3", "BSD-3-Clause", [("markupsafe", ">=2.0", ["2.0.1"])]),
    ("markupsafe", "2.0.1", "BSD-3-Clause", []),
    ("itsdangerous", "2.0.1", "BSD-3-Clause", []),
    ("click", "8.0.3", "BSD-3-Clause", []),
    ("requests", "2.27.1", "Apache-2.0", [("urllib3", ">=1.21.1,<1.27", ["1.26.7", "1.26.8"]), ("idna", ">=2.5,<4", ["3.3"]),
                                          ("certifi", ">=2017.4.17", ["2021.10.8"]), ("charset-normalizer", "~=2.0.0", ["2.0.9", "2.0.10"])]),
    ("urllib3", "1.26.8", "MIT", []),
    ("idna", "3.3", "BSD-3-Clause", []),
    ("certifi", "2021.10.8", "MPL-2.0", []),
    ("charset-normalizer", "2.0.10", "MIT", []),
    ("numpy", "1.22.1", "BSD-3-Clause", []),
    ("pandas", "1.4.0", "BSD-3-Clause", [("numpy", ">=1.18.5", ["1.21.5", "1.22.1"]), ("python-dateutil", ">=2.8.1", ["2.8.2"]),
                                         ("pytz", ">=2020.1", ["2021.3"])]),
    ("python-dateutil", "2.8.2", "Apache-2.0", [("six", ">=1.5", ["1.16.0"])]),
    ("six", "1.16.0", "MIT", []),
    ("pytz", "2021.3", "MIT", []),
    ("scipy", "1.7.3", "BSD-3-Clause", [("numpy", ">=1.16.5,<1.23.0", ["1.21.5", "1.22.1"])]),
    ("django", "4.0.1", "BSD-3-Clause", [("asgiref", ">=3.4.1,<4", ["3.4.1", "3.5.0"]), ("sqlparse", ">=0.2.2", ["0.4.2"])]),
    ("asgiref", "3.5.0", "BSD-3-Clause", []),
    ("sqlparse", "0.4.2", "BSD-3-Clause", []),
    ("pyyaml", "6.0", "MIT", []),
    ("attrs", "21.4.0", "MIT", []),
    ("packaging", "21.3", "Apache-2.0", [("pyparsing", ">=2.0.2,!=3.0.5", ["3.0.6", "3.0.7"])]),
    ("pyparsing", "3.0.7", "MIT", []),
    ("pytest", "6.2.5", "MIT", [("attrs", ">=19.2.0", ["21.2.0", "21.4.0"]), ("iniconfig", None, ["1.1.1"]),
                                ("packaging", None, ["21.3"]), ("pluggy", ">=0.12,<2.0", ["1.0.0"]), ("py", ">=1.8.2", ["1.11.0"]),
                                ("toml", None, ["0.10.2"])]),
    ("iniconfig", "1.1.1", "MIT", []),
    ("pluggy", "1.0.0", "MIT", []),
    ("py", "1.11.0", "MIT", []),
    ("toml", "0.10.2", "MIT", []),
    ("cryptography", "36.0.1", "Apache-2.0", [("cffi", ">=1.12", ["1.15.0"])]),
    ("cffi", "1.15.0", "MIT", [("pycparser", None, ["2.21"])]),
    ("pycparser", "2.21", "BSD-3-Clause", []),
    ("sqlalchemy", "1.4.31", "MIT", [("greenlet", "!=0.4.17", ["1.1.2"])]),
    ("greenlet", "1.1.2", "MIT", []),
    ("tensorflow", "2.7.0", "Apache-2.0", []),   # solved with an error below
    ("torch", "1.10.2", "BSD-3-Clause", []),     # solved with an error below
    ("opencv-python", "4.5.5.62", "MIT", []),    # solved with an error below
]
FAILED = {"tensorflow", "torch", "opencv-python"}


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def solver_document(number, name, version, license_id, dependencies):
    stamp = f"22011010{number:02d}00"
    document_id = f"solver-rhel-8-py38-{stamp}-{digest(name)[:16]}"
    requires = [f"{dep} ({spec})" if spec else dep for dep, spec, _ in dependencies]
    entry = {
        "package_name": name,
        "package_version": version,
        "package_version_requested": version,
        "index_url": PYPI,
        "importlib_metadata": {"metadata": {"Name": name, "Version": version, "License": license_id,
                                            "Summary": f"{name} {version}", "Requires-Dist": requires or None}},
        "sha256": [digest(f"{name}-{version}.tar.gz"), digest(f"{name}-{version}-py3-none-any.whl")],
        "packages": [name.replace("-", "_")],
        "dependencies": [
            {"package_name": dep, "normalized_package_name": dep, "specifier": spec, "extras": [], "extra": [],
             "marker": None, "marker_evaluated": None, "marker_evaluation_result": True, "marker_evaluation_error": None,
             "resolved_versions": [{"versions": versions, "index": PYPI}]}
            for dep, spec, versions in dependencies
        ],
    }
    failed = name in FAILED
    errors = [{"package_name": name, "package_version": version, "index_url": PYPI, "type": "command_error",
               "details": {"return_code": 1, "stderr": "ERROR: Failed building wheel"},
               "is_provided_package": True, "is_provided_package_version": True}] if failed else []
    return document_id, {
        "metadata": {
            "analyzer": "thoth-solver", "analyzer_version": "1.13.1",
            "arguments": {"python": {"index": PYPI, "requirements": f"{name}==={version}", "no_transitive": True}},
            "datetime": f"2022-01-10T10:{number:02d}:00.000000",
            "document_id": document_id, "duration": 10 + number,
            "distribution": {"id": "rhel", "name": "Red Hat Enterprise Linux", "version": "8.5"},
            "os_release": {"id": "rhel", "name": "Red Hat Enterprise Linux", "version_id": "8.5"},
            "python": {"major": 3, "minor": 8, "micro": 12, "releaselevel": "final", "serial": 0},
            "thoth_deployment_name": "demo",
        },
        "result": {
            "environment": {"python_version": "3.8", "platform_system": "Linux", "sys_platform": "linux"},
            "environment_packages": [],
            "platform": "linux-x86_64",
            "tree": [] if failed else [entry],
            "errors": errors,
            "unresolved": [],
            "unparsed": [],
        },
    }


def messages():
    sent = {"component_name": "demo-feed", "service_version": "0.1.0"}

    def message(topic, **fields):
        return {"topic_name": topic, "message_contents": {**sent, **fields}}

    feed = []
    for name, version, _, _ in PACKAGES[:12]:
        feed.append(message("thoth.investigator.unresolved-package", package_name=name, package_version=version,
                            index_url=PYPI, solver="solver-fedora-35-py310"))
    for name, newer in [("flask", "2.1.0"), ("requests", "2.28.0"), ("numpy", "1.22.2"), ("django", "4.0.2"),
                        ("pandas", "1.4.1"), ("pytest", "7.0.0")]:
        feed.append(message("thoth.package-release.package-released", package_name=name, package_version=newer,
                            index_url=PYPI))
    for name, version, _, _ in PACKAGES[12:20]:
        if name not in FAILED:
            feed.append(message("thoth.solver.solved-package", package_name=name, package_version=version,
                                index_url=PYPI, solver="solver-rhel-8-py38"))
    for name, version, _, _ in PACKAGES[20:26]:
        feed.append(message("thoth.investigator.si-unanalyzed-package", package_name=name, package_version=version,
                            index_url=PYPI))
    feed.append(message("thoth.update-provides-source-distro", package_name="numpy", package_version="1.22.1",
                        index_url=PYPI, value=False))
    feed.append(message("thoth.package-update.missing-package-version", index_url=PYPI, package_name="py",
                        package_version="1.11.0"))
    feed.append(message("thoth.package-update.hash-mismatch", index_url=PYPI, package_name="six",
                        package_version="1.16.0", missing_from_source=[digest("six-1.16.0.tar.gz")],
                        missing_from_database=[digest("six-1.16.0.post1.tar.gz")]))
    for name, version in [("django", "4.0.1"), ("pyyaml", "6.0"), ("urllib3", "1.26.8")]:
        feed.append(message("thoth.cve-update.cve-provided", package_name=name, package_version=version,
                            index_url=PYPI))
    feed.append(message("thoth.investigator.unrevsolved-package", package_name="flask", package_version="2.0.2"))
    return feed


# OSV advisories (their ids and affected ranges as published; the summaries are ours).
ADVISORIES = [
    ("GHSA-95rw-fx8r-36v6", "django", "4.0", "4.0.2", "Possible XSS via the {% debug %} template tag"),
    ("GHSA-v845-jxx5-vc9f", "urllib3", "0", "1.26.17", "Cookie request header is not stripped on cross-origin redirects"),
    ("GHSA-j8r2-6x86-q33q", "requests", "2.3.0", "2.31.0", "Proxy-Authorization header leaked to destination servers"),
]


def advisory(identifier, name, introduced, fixed, summary):
    return {
        "id": identifier, "summary": summary, "details": summary + ".",
        "affected": [{"package": {"ecosystem": "PyPI", "name": name},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, {"fixed": fixed}]}]}],
        "references": [{"type": "ADVISORY", "url": f"https://github.com/advisories/{identifier}"}],
    }


BAD = [
    ("thoth.investigator.unresolved-package", '{"package_name": "flask", "index_url": '),
    ("thoth.investigator.unresolved-package",
     '{"component_name": "demo-feed", "service_version": "0.1.0", "package_name": 42, "index_url": "https://pypi.org/simple"}'),
    ("thoth.package-release.package-released",
     '{"component_name": "demo-feed", "service_version": "0.1.0", "package_name": "flask", "index_url": "https://pypi.org/simple"}'),
    ("thoth.solver.solved-package",
     '{"version": "v9", "component_name": "demo-feed", "service_version": "0.1.0", "package_name": "six", '
     '"package_version": "1.16.0", "index_url": "https://pypi.org/simple", "solver": "solver-rhel-8-py38"}'),
    ("thoth.investigator.unresolved-package",
     '{"component_name": "demo-feed", "service_version": "0.1.0", "package_name": "flask", "package_version": "2.0.2", '
     '"index_url": "https://packages.example.org/simple", "solver": null}'),
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    documents = out / "documents"
    documents.mkdir(parents=True, exist_ok=True)
    for number, (name, version, license_id, dependencies) in enumerate(PACKAGES):
        document_id, document = solver_document(number, name, version, license_id, dependencies)
        (documents / f"{document_id}.json").write_text(json.dumps(document, indent=1))
    (out / "messages.json").write_text(json.dumps(messages(), indent=1))
    (out / "osv").mkdir(exist_ok=True)
    for entry in ADVISORIES:
        (out / "osv" / f"{entry[0]}.json").write_text(json.dumps(advisory(*entry), indent=1))
    with open(out / "bad.jsonl", "w") as bad:
        for topic, payload in BAD:
            bad.write(json.dumps({"topic": topic, "payload": payload}) + "\n")
    print(f"{len(PACKAGES)} solver documents, {len(messages())} messages, {len(BAD)} bad records in {out}")


if __name__ == "__main__":
    main()
