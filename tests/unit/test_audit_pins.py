"""``.ci/audit_pins.py``: which pins it reads from requirements.txt, and what it concludes from a
PyPI project document. Offline: the documents here are built by hand in PyPI's shape."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("audit_pins", ROOT / ".ci" / "audit_pins.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def project(latest: str, *vulnerabilities: dict) -> dict:
    return {"info": {"version": latest}, "vulnerabilities": list(vulnerabilities)}


ADVISORY = {"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2026-0001"], "fixed_in": [], "link": "x",
            "withdrawn": None}


def test_exact_pins_keep_names_and_versions_and_skip_ranges_comments_and_extras():
    pins = audit.exact_pins("# comment\ntorch==2.14.1\nnumpy>=1.26,<3\nyt-dlp[default]==2026.10.26\n"
                            "Open_Clip.Torch == 3.3.0  # pinned\n\npillow>=11,<13\n")
    assert pins == {"torch": "2.14.1", "yt-dlp": "2026.10.26", "open-clip-torch": "3.3.0"}


def test_the_projects_requirements_pin_gradio_exactly():
    assert "gradio" in audit.exact_pins((ROOT / "requirements.txt").read_text())


def test_a_pin_on_the_newest_release_is_clean_or_open_by_its_listed_advisories():
    assert audit.assess("6.31.0", project("6.31.0"))["status"] == "clean"
    report = audit.assess("6.31.0", project("6.31.0", ADVISORY))
    assert report["status"] == "open"
    assert [a["id"] for a in report["advisories"]] == ["GHSA-aaaa-bbbb-cccc"]
    withdrawn = {**ADVISORY, "withdrawn": "2026-01-02T00:00:00Z"}
    assert audit.assess("6.31.0", project("6.31.0", withdrawn))["status"] == "clean"


def test_an_older_pin_is_reported_behind_not_clean():
    report = audit.assess("6.30.0", project("6.31.0"))
    assert report["status"] == "behind" and report["latest"] == "6.31.0"


@pytest.mark.parametrize(("document", "code"), [(project("1.0"), 0), (project("1.0", ADVISORY), 1),
                                                (project("1.1"), 1)])
def test_require_fails_unless_the_named_pin_is_clean(tmp_path, monkeypatch, capsys, document, code):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("gradio==1.0\nother==2.0\n")
    monkeypatch.setattr(audit, "fetch", lambda name: document if name == "gradio" else project("2.0", ADVISORY))
    assert audit.main(["--requirements", str(requirements), "--require", "gradio"]) == code
    report = json.loads(capsys.readouterr().out)
    assert report["other"]["status"] == "open"  # reported, but not required


def test_require_of_a_package_that_is_not_pinned_exactly_fails(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("gradio>=6\n")
    assert audit.main(["--requirements", str(requirements), "--require", "gradio"]) == 1
