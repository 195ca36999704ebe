"""``.ci/audit_pins.py``: which pins it reads from requirements.txt, which source settles each pinned
version, and what it concludes. Offline: the sources are faked with documents in PyPI's and OSV's
shapes, and their failures with the errors urllib raises."""

from __future__ import annotations

import importlib.util
import json
import urllib.error
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("audit_pins", ROOT / ".ci" / "audit_pins.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

ADVISORY = {"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2026-0001"], "fixed_in": ["2.0"], "link": "x",
            "withdrawn": None}
OSV_VULN = {"id": "PYSEC-2026-7", "aliases": ["CVE-2026-0007"],
            "affected": [{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "18.2.0"}]}]}]}


def http_404(url):
    return urllib.error.HTTPError(url, 404, "Not Found", {}, None)


def sources(release=None, osv=None, project=None):
    """A fake ``fetch_json``: each source answers its document, or raises the error given instead."""
    def fetch(url, payload=None):
        answer = osv if url == audit.OSV_QUERY else release if url.count("/") == 6 else project
        if answer is None:
            raise urllib.error.URLError("Name or service not known")
        if isinstance(answer, BaseException):
            raise answer
        return answer
    return fetch


def test_exact_pins_keep_names_and_versions_and_skip_ranges_comments_and_extras():
    pins = audit.exact_pins("# comment\ntorch==2.14.1\nnumpy>=1.26,<3\nyt-dlp[default]==2026.10.26\n"
                            "Open_Clip.Torch == 3.3.0  # pinned\n\npillow>=11,<13\n")
    assert pins == {"torch": "2.14.1", "yt-dlp": "2026.10.26", "open-clip-torch": "3.3.0"}


def test_the_projects_requirements_pin_the_packages_that_face_untrusted_input():
    pins = audit.exact_pins((ROOT / "requirements.txt").read_text())
    assert {"gradio", "av", "torch", "torchvision", "transformers", "yt-dlp"} <= pins.keys()


def test_an_older_pin_is_checked_against_the_advisories_of_its_own_version():
    """Red team: torch, torchvision, transformers and av were behind, so never checked."""
    vulnerable = audit.check_pin("av", "18.1.0", sources(release={"vulnerabilities": [ADVISORY]},
                                                         project={"info": {"version": "19.0.2"}, "vulnerabilities": []}))
    assert vulnerable["status"] == "vulnerable" and vulnerable["source"] == "pypi-release"
    assert [a["id"] for a in vulnerable["advisories"]] == ["GHSA-aaaa-bbbb-cccc"]
    clean = audit.check_pin("av", "18.1.0", sources(release={"vulnerabilities": []}))
    assert clean["status"] == "clean" and clean["source"] == "pypi-release"
    withdrawn = {**ADVISORY, "withdrawn": "2026-01-02T00:00:00Z"}
    assert audit.check_pin("av", "18.1.0", sources(release={"vulnerabilities": [withdrawn]}))["status"] == "clean"


def test_osv_answers_when_pypis_release_document_is_not_reachable():
    result = audit.check_pin("av", "18.1.0", sources(release=http_404("u"), osv={"vulns": [OSV_VULN]}))
    assert result["status"] == "vulnerable" and result["source"] == "osv"
    assert result["advisories"][0]["fixed_in"] == ["18.2.0"]
    assert result["tried"] == [{"source": "pypi-release", "error": "HTTP 404"}]
    assert audit.check_pin("av", "18.1.0", sources(release=http_404("u"), osv={}))["status"] == "clean"


def test_the_project_document_settles_only_the_newest_release():
    project = {"info": {"version": "6.31.0"}, "vulnerabilities": [ADVISORY]}
    newest = audit.check_pin("gradio", "6.31.0", sources(release=http_404("u"), project=project))
    assert newest["status"] == "vulnerable" and newest["source"] == "pypi-project"
    older = audit.check_pin("gradio", "6.30.0", sources(release=http_404("u"), project=project))
    assert older["status"] == "unchecked" and older["latest"] == "6.31.0"  # not "clean", not "vulnerable"
    assert [t["source"] for t in older["tried"]] == ["pypi-release", "osv", "pypi-project"]
    assert "newest release (6.31.0) only" in older["tried"][-1]["error"]


def test_an_unreachable_source_is_reported_never_passed_silently(tmp_path, capsys):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("av==18.1.0\n")
    assert audit.main(["--requirements", str(requirements)], fetch=sources()) == audit.EXIT_UNCHECKED
    err = capsys.readouterr().err
    assert "av==18.1.0 NOT CHECKED" in err and "unreachable" in err and "0 of 1 pins checked" in err


@pytest.mark.parametrize(("release", "code"), [({"vulnerabilities": []}, 0), ({"vulnerabilities": [ADVISORY]}, 1)])
def test_ci_fails_only_on_a_known_advisory_not_on_a_newer_release(tmp_path, capsys, release, code):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("gradio==1.0\n")
    fetch = sources(release=release, project={"info": {"version": "9.9"}, "vulnerabilities": [ADVISORY]})
    assert audit.main(["--requirements", str(requirements)], fetch=fetch) == code
    report = json.loads(capsys.readouterr().out)
    assert report["gradio"]["source"] == "pypi-release"


def test_require_fails_when_the_named_pin_is_missing_or_unchecked(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("gradio>=6\nav==1.0\n")
    assert audit.main(["--requirements", str(requirements), "--require", "gradio"], fetch=sources()) == 1
    assert audit.main(["--requirements", str(requirements), "--require", "av"], fetch=sources()) == 1
    assert audit.main(["--requirements", str(requirements)], fetch=sources()) == audit.EXIT_UNCHECKED
