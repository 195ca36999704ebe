#!/usr/bin/env python3
"""Open security advisories for the exact pins in requirements.txt, as PyPI publishes them.

PyPI's project endpoint (``https://pypi.org/pypi/NAME/json``) describes the newest release and
lists the advisories (PYSEC / GHSA, from OSV) that still affect it. So:

- a pin on the newest release is checked exactly: its advisories are that list;
- an older pin cannot be checked through this endpoint (the per-version endpoint is not reachable
  from every network), and is reported as ``behind``.

Usage::

    .venv/bin/python .ci/audit_pins.py                   # report every exact pin, JSON on stdout
    .venv/bin/python .ci/audit_pins.py --require gradio  # exit 1 unless gradio's pin is clean

``--require`` names packages whose pin must be the newest release with no open advisory (the app
faces the network through Gradio). Exit status: 0 clean, 1 a required pin is not clean, 2 PyPI
could not be read.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

PYPI = "https://pypi.org/pypi/{name}/json"
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def exact_pins(requirements: str) -> dict[str, str]:
    """``name == version`` lines (extras dropped, names normalised as PyPI does); ranges are skipped."""
    pins = {}
    for line in requirements.splitlines():
        match = PIN.match(line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def assess(pinned: str, project: dict) -> dict:
    """What PyPI's project document says about *pinned*: ``clean``, ``open`` (with the advisories)
    or ``behind`` (not the newest release, so this endpoint cannot say)."""
    latest = project["info"]["version"]
    if pinned != latest:
        return {"pinned": pinned, "latest": latest, "status": "behind", "advisories": []}
    advisories = [
        {"id": item.get("id"), "aliases": item.get("aliases", []), "fixed_in": item.get("fixed_in", []),
         "link": item.get("link")}
        for item in project.get("vulnerabilities") or []
        if not item.get("withdrawn")
    ]
    return {"pinned": pinned, "latest": latest, "status": "open" if advisories else "clean",
            "advisories": advisories}


def fetch(name: str, timeout: float = 30.0) -> dict:
    request = urllib.request.Request(PYPI.format(name=name), headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # fixed https URL, no user input
        return json.load(response)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirements", type=Path, default=Path(__file__).resolve().parent.parent / "requirements.txt")
    parser.add_argument("--require", action="append", default=[], metavar="PACKAGE",
                        help="fail unless this package's pin is the newest release with no open advisory")
    args = parser.parse_args(argv)

    pins = exact_pins(args.requirements.read_text())
    required = {re.sub(r"[-_.]+", "-", name).lower() for name in args.require}
    missing = required - pins.keys()
    if missing:
        print(f"audit_pins: {', '.join(sorted(missing))} not pinned exactly in {args.requirements}", file=sys.stderr)
        return 1
    report = {}
    for name, version in pins.items():
        try:
            report[name] = assess(version, fetch(name))
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError, KeyError) as error:
            print(f"audit_pins: cannot read PyPI's record for {name}: {error}", file=sys.stderr)
            return 2
    print(json.dumps(report, indent=2))
    failed = sorted(name for name in required if report[name]["status"] != "clean")
    for name in failed:
        entry = report[name]
        print(f"audit_pins: {name}=={entry['pinned']} is {entry['status']} (newest {entry['latest']}; "
              f"advisories: {[a['id'] for a in entry['advisories']]})", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
