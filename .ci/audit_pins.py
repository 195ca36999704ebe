#!/usr/bin/env python3
"""Known security advisories against the exact pins in requirements.txt, for the pinned versions.

Every ``name==version`` pin is checked against the first source that answers for *that version*:

1. PyPI's release document, ``https://pypi.org/pypi/NAME/VERSION/json``: its ``vulnerabilities``
   are the advisories (PYSEC / GHSA, from OSV) that affect that release;
2. OSV's query API, ``https://api.osv.dev/v1/query`` (package and version);
3. PyPI's project document, ``https://pypi.org/pypi/NAME/json``: its ``vulnerabilities`` affect the
   *newest* release only, so it settles a pin only when the pin is the newest release.

A pin is ``clean`` (a source answered, no advisory), ``vulnerable`` (advisories listed), or
``unchecked`` when no source could answer for its version; then the report says which sources were
tried and why each failed (no silent pass, as ``pip-audit`` gave when it could not reach its
source). A newer release alone is never a failure: ``latest`` is reported for information.

Usage::

    .venv/bin/python .ci/audit_pins.py                   # JSON report on stdout, one line per problem on stderr
    .venv/bin/python .ci/audit_pins.py --require gradio  # gradio's pin must also be checked, not unchecked

Exit status: 0 every pin checked and clean; 1 a known advisory affects a pinned version (or a
``--require``d pin is missing or unchecked); 3 no advisory found, but some pins could not be checked.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

PYPI_RELEASE = "https://pypi.org/pypi/{name}/{version}/json"
PYPI_PROJECT = "https://pypi.org/pypi/{name}/json"
OSV_QUERY = "https://api.osv.dev/v1/query"
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")
EXIT_CLEAN, EXIT_VULNERABLE, EXIT_UNCHECKED = 0, 1, 3
#: What a source may fail with: network, HTTP status, a body that is not the document expected.
FAILURES = (urllib.error.URLError, TimeoutError, OSError, json.JSONDecodeError, KeyError, TypeError, ValueError)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def exact_pins(requirements: str) -> dict[str, str]:
    """``name == version`` lines (extras dropped, names normalised as PyPI does); ranges are skipped."""
    pins = {}
    for line in requirements.splitlines():
        match = PIN.match(line)
        if match:
            pins[normalise(match.group(1))] = match.group(2)
    return pins


def fetch_json(url: str, payload: dict | None = None, timeout: float = 30.0) -> dict:
    """GET (or POST ``payload`` as JSON) a fixed https URL; no user input reaches it."""
    data = json.dumps(payload).encode() if payload is not None else None
    headers = {"Accept": "application/json", **({"Content-Type": "application/json"} if data else {})}
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def pypi_advisories(items: list | None) -> list[dict]:
    return [{"id": item.get("id"), "aliases": item.get("aliases", []), "fixed_in": item.get("fixed_in", []),
             "link": item.get("link")} for item in items or [] if not item.get("withdrawn")]


def osv_advisories(items: list | None) -> list[dict]:
    return [{"id": item.get("id"), "aliases": item.get("aliases", []), "fixed_in": _osv_fixed(item),
             "link": f"https://osv.dev/vulnerability/{item.get('id')}"} for item in items or [] if not item.get("withdrawn")]


def _osv_fixed(item: dict) -> list[str]:
    return sorted({event["fixed"] for affected in item.get("affected", []) for r in affected.get("ranges", [])
                   for event in r.get("events", []) if "fixed" in event})


def _why(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        return f"unreachable ({error.reason})"
    return f"{type(error).__name__}: {error}"


def check_pin(name: str, version: str, fetch=fetch_json) -> dict:
    """The pin's status from the first source that can answer for ``version`` (see the module docs)."""
    tried, latest = [], None
    try:
        release = fetch(PYPI_RELEASE.format(name=name, version=version))
        advisories = pypi_advisories(release["vulnerabilities"])
        return _result(version, latest, "pypi-release", advisories, tried)
    except FAILURES as error:
        tried.append({"source": "pypi-release", "error": _why(error)})
    try:
        answer = fetch(OSV_QUERY, {"package": {"name": name, "ecosystem": "PyPI"}, "version": version})
        return _result(version, latest, "osv", osv_advisories(answer.get("vulns")), tried)
    except FAILURES as error:
        tried.append({"source": "osv", "error": _why(error)})
    try:
        project = fetch(PYPI_PROJECT.format(name=name))
        latest = project["info"]["version"]
        if latest == version:
            return _result(version, latest, "pypi-project", pypi_advisories(project["vulnerabilities"]), tried)
        tried.append({"source": "pypi-project", "error": f"it lists the advisories of the newest release ({latest}) only"})
    except FAILURES as error:
        tried.append({"source": "pypi-project", "error": _why(error)})
    return {"pinned": version, "latest": latest, "status": "unchecked", "source": None, "advisories": [],
            "tried": tried}


def _result(version: str, latest: str | None, source: str, advisories: list[dict], tried: list[dict]) -> dict:
    return {"pinned": version, "latest": latest, "status": "vulnerable" if advisories else "clean", "source": source,
            "advisories": advisories, "tried": tried}


def main(argv: list[str] | None = None, fetch=fetch_json) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirements", type=Path, default=Path(__file__).resolve().parent.parent / "requirements.txt")
    parser.add_argument("--require", action="append", default=[], metavar="PACKAGE",
                        help="fail unless this package is pinned exactly and its version could be checked")
    args = parser.parse_args(argv)

    pins = exact_pins(args.requirements.read_text())
    required = {normalise(name) for name in args.require}
    missing = required - pins.keys()
    if missing:
        print(f"audit_pins: {', '.join(sorted(missing))} not pinned exactly in {args.requirements}", file=sys.stderr)
        return EXIT_VULNERABLE
    report = {name: check_pin(name, version, fetch) for name, version in pins.items()}
    print(json.dumps(report, indent=2))
    vulnerable = sorted(n for n, r in report.items() if r["status"] == "vulnerable")
    unchecked = sorted(n for n, r in report.items() if r["status"] == "unchecked")
    for name in vulnerable:
        entry = report[name]
        print(f"audit_pins: {name}=={entry['pinned']} has known advisories: "
              f"{', '.join(a['id'] for a in entry['advisories'])} (source {entry['source']})", file=sys.stderr)
    for name in unchecked:
        tried = "; ".join(f"{t['source']}: {t['error']}" for t in report[name]["tried"])
        print(f"audit_pins: {name}=={report[name]['pinned']} NOT CHECKED, no source answered for this version "
              f"({tried})", file=sys.stderr)
    checked = len(report) - len(unchecked)
    print(f"audit_pins: {checked} of {len(report)} pins checked, {len(vulnerable)} with known advisories, "
          f"{len(unchecked)} not checked", file=sys.stderr)
    if vulnerable or required & set(unchecked):
        return EXIT_VULNERABLE
    return EXIT_UNCHECKED if unchecked else EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
