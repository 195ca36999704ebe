"""Security: URLs through the one validator (redirects included), every file/path parameter
confined to where it belongs, no eval/exec/pickle on anything a user supplies, and what the
web server may serve. The validator's address properties are in ``test_properties.py``.
"""

from __future__ import annotations

import ast
import json
import os
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.analysis.jobs import Stage, create_job, run_job
from pipeline.core import check_db_name, check_video_id, valid_db_name
from pipeline.errors import ConfigError, MediaError, UrlError
from pipeline.index import DataLayout, VideoCatalog
from pipeline.sources import expand_sources, validate_url
from pipeline.sources.fetch import SourceOptions, guard_response, resolve_source

ROOT = Path(__file__).resolve().parents[2]
MODEST = settings(max_examples=50, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
VIDEO_ID = "0123456789abcdef0123"
TRAVERSAL = ["..", "../x", "../../etc/passwd", "/etc/passwd", "a/../../b", "..\\x", "x\x00y", ".", "", " ", "~",
             "%2e%2e", "a/b", "\u2024\u2024/x"]

#: Path pieces from which hypothesis builds traversal attempts.
SEGMENTS = st.lists(st.sampled_from(["..", ".", "videos", VIDEO_ID, "catalog", "edge", "thumbs", "x.jpg", "",
                                     "/", "etc", "passwd", "%2e%2e", "..%2f", "\\"]), max_size=8)


# --- URLs: redirects to non-public addresses are refused before the body is read -------------------


class FakeResponse:
    def __init__(self, url: str):
        self.url, self.closed = url, False

    def close(self) -> None:
        self.closed = True


@MODEST
@given(st.sampled_from(["10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
                        "fe80::/10", "fc00::/7", "::1/128"]).flatmap(lambda net: st.ip_addresses(network=net)),
       st.sampled_from(["http", "https"]))
def test_a_response_that_ended_on_a_non_public_address_is_closed_unread(ip, scheme):
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    response = FakeResponse(f"{scheme}://{host}/latest/meta-data/")
    with pytest.raises(UrlError, match="non-public"):
        guard_response(response, lambda url: validate_url(url, allowlist=False, resolve=lambda h, p: []))
    assert response.closed


def test_urls_in_input_lists_meet_the_same_validator(tmp_path):
    """``@list.txt`` entries are data: URLs in them are fetched only through ``validate_url``."""
    listing = tmp_path / "inputs.txt"
    listing.write_text("# a comment\nfile:///etc/passwd\nhttp://169.254.169.254/latest/\ngopher://youtube.com/x\n")
    entries = expand_sources([f"@{listing}"])
    assert entries == ["file:///etc/passwd", "http://169.254.169.254/latest/", "gopher://youtube.com/x"]
    options = SourceOptions(cache_dir=tmp_path / "cache")
    for entry in entries:
        with pytest.raises(UrlError):
            resolve_source(entry, options, resolve=lambda host, port: ["169.254.169.254"])
    assert not (tmp_path / "cache").exists()  # nothing fetched, nothing cached


def test_paths_in_input_lists_are_plain_files_checked_like_any_input(tmp_path):
    """A list naming itself is read once; listed paths are made absolute (relative to the list) and
    still have to be media files: a text file such as /etc/passwd is refused, by name, when probed."""
    from pipeline.media import probe

    listing = tmp_path / "lists" / "self.txt"
    listing.parent.mkdir()
    listing.write_text(f"@{listing}\n../secret.txt\n")
    (tmp_path / "secret.txt").write_text("root:x:0:0\n" * 20)
    [entry] = expand_sources([f"@{listing}"])
    assert entry == str(tmp_path / "secret.txt")
    with pytest.raises(MediaError, match="secret.txt: not a readable media file"):
        probe(resolve_source(entry, SourceOptions(cache_dir=tmp_path / "cache")).path)
    with pytest.raises(ConfigError, match="cannot read the input list"):
        expand_sources([f"@{tmp_path / 'missing.txt'}"])


# --- names and ids that become paths ----------------------------------------------------------------


@pytest.mark.parametrize("name", TRAVERSAL + ["a" * 65, "-starts-with-dash", "_x", "a b", "é"])
def test_database_names_that_could_leave_their_folder_are_refused(tmp_path, name):
    with pytest.raises(ConfigError, match="invalid database name"):
        check_db_name(name)
    with pytest.raises(ConfigError):
        VideoCatalog(tmp_path).json_path(name)


@MODEST
@given(st.text(max_size=80))
def test_any_accepted_database_name_stays_inside_the_catalog_and_store_folders(tmp_path, name):
    layout = DataLayout(tmp_path)
    try:
        path = VideoCatalog(layout.root).json_path(name)  # where an earlier version kept it
    except ConfigError:
        return
    assert path.resolve().parent == (tmp_path / "catalog").resolve() and path.name == f"{name}.json"
    assert valid_db_name(name)  # the store accepts it too, as a folder directly under its root
    assert (tmp_path / "edge" / name).resolve().parent == (tmp_path / "edge").resolve()


@MODEST
@given(st.text(max_size=40))
def test_store_collection_names_never_name_a_parent_or_nested_folder(name):
    if valid_db_name(name):
        root = Path("/srv/edge")
        assert Path(os.path.normpath(root / name)).parent == root


@pytest.mark.parametrize("video_id", TRAVERSAL + [VIDEO_ID.upper(), VIDEO_ID + "0", VIDEO_ID[:-1] + "/"])
def test_video_ids_that_are_not_content_hashes_are_refused_everywhere(tmp_path, video_id):
    layout = DataLayout(tmp_path)
    with pytest.raises(ConfigError, match="invalid video id"):
        check_video_id(video_id)
    for build in (layout.video_dir, lambda v: layout.frame_path(v, 0), lambda v: layout.thumb_path(v, "clip-x", 0),
                  lambda v: layout.media_path(v, ".mp4"), lambda v: layout.load_frames(v, "clip-x")):
        with pytest.raises(ConfigError):
            build(video_id)


@pytest.mark.parametrize("vector_name", ["../x", "a/b", "..", "", "A", "x" * 101])
def test_vector_names_cannot_leave_the_video_folder(tmp_path, vector_name):
    with pytest.raises(ConfigError, match="invalid vector name"):
        DataLayout(tmp_path).encoder_dir(VIDEO_ID, vector_name)


@pytest.mark.parametrize("suffix", ["/../../x", ".mp4/../../x", "..", ".toolongext", ".m p4", ""])
def test_media_suffixes_never_change_the_folder(tmp_path, suffix):
    path = DataLayout(tmp_path).media_path(VIDEO_ID, suffix)
    assert path.parent == tmp_path / "media" and path.name == f"{VIDEO_ID}.bin"


@pytest.fixture
def data_dir(tmp_path) -> Path:
    root = tmp_path / "data"
    thumbs = root / "videos" / VIDEO_ID / "clip-x" / "thumbs"
    thumbs.mkdir(parents=True)
    (thumbs / "shot_0000.jpg").write_bytes(b"jpeg")
    (tmp_path / "outside.txt").write_text("secret")
    (root / "videos" / "escape.jpg").symlink_to(tmp_path / "outside.txt")
    return root


def test_payload_thumbnail_paths_resolve_inside_the_data_dir_only(data_dir):
    """Payloads can come from a shared Qdrant server: a thumbnail path in one is never trusted."""
    layout = DataLayout(data_dir)
    good = f"videos/{VIDEO_ID}/clip-x/thumbs/shot_0000.jpg"
    assert layout.resolve(good) == (data_dir / good).resolve()
    for bad in ["../outside.txt", "/etc/passwd", f"videos/{VIDEO_ID}/../../../outside.txt", "videos/escape.jpg",
                str(data_dir.parent / "outside.txt")]:
        with pytest.raises(ConfigError, match="outside the data directory"):
            layout.resolve(bad)


@MODEST
@given(SEGMENTS)
def test_any_payload_path_resolves_inside_the_data_dir_or_is_refused(data_dir, segments):
    layout = DataLayout(data_dir)
    try:
        path = layout.resolve("/".join(segments))
    except ConfigError:
        return
    assert path.is_relative_to(data_dir.resolve())


def test_ingest_folders_in_the_web_app_stay_under_the_allowed_roots(tmp_path, monkeypatch):
    """What tests/ui does not cover: a sibling folder sharing the root's name prefix, a relative
    path (resolved against the server's working directory), and ``~``."""
    pytest.importorskip("gradio")
    from app.ui.tabs.ingest import FolderRefused, check_folder

    root = tmp_path / "archive"
    (root / "lote").mkdir(parents=True)
    (tmp_path / "archive2").mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert check_folder("lote", [root]) == (root / "lote").resolve()
    for text in [str(tmp_path / "archive2"), "../archive2", "~", "~/archive2", "..", "/"]:
        with pytest.raises(FolderRefused) as refused:
            check_folder(text, [root])
        assert refused.value.key == "folder_outside", text


@MODEST
@given(SEGMENTS)
def test_any_ingest_folder_is_under_a_root_or_refused(tmp_path_factory, segments):
    pytest.importorskip("gradio")
    from app.ui.tabs.ingest import FolderRefused, check_folder

    base = tmp_path_factory.getbasetemp() / "folders"
    root = base / "archive"
    (root / "videos").mkdir(parents=True, exist_ok=True)
    (base / "etc").mkdir(exist_ok=True)
    if not (root / "edge").is_symlink():
        (root / "edge").symlink_to(base / "etc")
    try:
        path = check_folder(str(root / "/".join(segments).lstrip("/")), [root])
    except FolderRefused:
        return
    assert path.is_relative_to(root.resolve())


def test_job_item_folders_come_from_sanitised_ids(tmp_path):
    manifest = create_job(tmp_path / "job", ["../../etc/passwd", "/x/../../y.mp4", "https://e.com/a/../b?c=/d"],
                          ["stage"])
    for item in manifest.items:
        assert (tmp_path / "job" / "items" / item.id).resolve().parent == (tmp_path / "job" / "items").resolve()


def test_a_tampered_manifest_cannot_send_a_stage_outside_the_job(tmp_path):
    job = tmp_path / "job"
    create_job(job, ["a.mp4"], ["stage"])
    data = json.loads((job / "manifest.json").read_text())
    data["items"][0]["id"] = "../../escaped"
    (job / "manifest.json").write_text(json.dumps(data))
    dirs: list[Path] = []
    try:
        run_job(job, [Stage("stage", lambda ctx: dirs.append(ctx.dir) or {})])
    except ConfigError:
        return  # refused: what should happen
    assert all(d.resolve().is_relative_to(job.resolve()) for d in dirs), dirs


# --- no code execution from data ------------------------------------------------------------------------

BANNED_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "marshal", "joblib"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{where} imports {n}" for n in names if n and n.split(".")[0] in BANNED_MODULES]
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        keywords = {k.arg: k.value for k in node.keywords}
        if name in ("eval", "exec", "builtins.eval", "builtins.exec", "__import__"):
            found.append(f"{where} calls {name}()")
        if name.endswith("torch.load"):
            weights_only = keywords.get("weights_only")
            if not (isinstance(weights_only, ast.Constant) and weights_only.value is True):
                found.append(f"{where} calls torch.load without weights_only=True")
        allow = keywords.get("allow_pickle")
        if allow is not None and not (isinstance(allow, ast.Constant) and allow.value is False):
            found.append(f"{where} passes allow_pickle={ast.unparse(allow)}")
        safe_yaml = name == "yaml.load" and "SafeLoader" in ast.unparse(keywords.get("Loader", ast.Constant("")))
        if name in ("yaml.load", "yaml.unsafe_load", "pandas.read_pickle", "pd.read_pickle") and not safe_yaml:
            found.append(f"{where} calls {name}")
        shell = keywords.get("shell")
        if name.startswith("subprocess.") and shell is not None and not (
                isinstance(shell, ast.Constant) and shell.value is False):
            found.append(f"{where} runs a shell")
    return found


def test_no_eval_exec_pickle_or_unsafe_loads_in_the_code():
    """AST scan of app/, pipeline/ and models/ (comments and docstrings do not count)."""
    files = [p for folder in ("app", "pipeline", "models") for p in sorted((ROOT / folder).rglob("*.py"))]
    assert len(files) > 20
    problems = [problem for path in files for problem in _problems(path)]
    assert not problems, "\n".join(problems)


def test_the_scan_catches_what_it_looks_for(tmp_path, monkeypatch):
    bad = ROOT / "pipeline" / "_scan_probe_never_committed.py"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: (
        "import pickle\nfrom dill import loads\nimport torch, numpy as np, subprocess\n"
        "eval('1')\nexec('x=1')\ntorch.load(p)\ntorch.load(p, weights_only=False)\nnp.load(p, allow_pickle=True)\n"
        "subprocess.run(c, shell=True)\nmodel.eval()\ntorch.load(p, weights_only=True)\nnp.load(p, allow_pickle=False)\n"))
    problems = _problems(bad)
    assert len(problems) == 8, problems  # the last three lines are fine


@pytest.mark.slow  # imports torch
def test_user_supplied_clip_checkpoints_load_with_weights_only():
    """``local-dir:`` and hub checkpoints are user-supplied files: open_clip must default to
    ``torch.load(weights_only=True)``, which refuses pickled code."""
    open_clip = pytest.importorskip("open_clip")
    import inspect

    for function in (open_clip.create_model_and_transforms, open_clip.create_model):
        assert inspect.signature(function).parameters["weights_only"].default is True


# --- what the web server may serve ----------------------------------------------------------------------


def test_launch_options_keep_server_side_rendering_run_history_and_share_off(tmp_path):
    """SSR off: with it on, the Node server proxies every request from loopback, which weakens
    Gradio's "Host and peer are both loopback" check; run history off: its routes can lend the
    host's Hugging Face token and connect buckets."""
    pytest.importorskip("gradio")
    from app.config import Settings
    from app.ui.app import launch_options
    from app.ui.settings import UiSettings

    settings = Settings(tmp_path, "archivo", "x", "cpu", "edge", None, None, 2.0)
    options = launch_options(settings, UiSettings())
    assert options["ssr_mode"] is False and not options.get("share")
    assert options["run_history"] is False
    assert options["server_name"] == "127.0.0.1"


@pytest.mark.slow
def test_the_file_route_refuses_traversal_links_and_neighbours(data_dir):
    """Beyond tests/ui (thumbnail served, store and catalog refused): ``..`` after an allowed folder
    (percent-encoded, so the client cannot normalise it away), a link inside an allowed folder that
    leads elsewhere, a sibling folder whose name starts like an allowed one, the download cache,
    and the login file when it lies in an allowed folder."""
    gr = pytest.importorskip("gradio")
    import httpx

    from app.config import Settings
    from app.ui.app import launch_options
    from app.ui.settings import UiSettings

    (data_dir / "catalog").mkdir()
    (data_dir / "catalog" / "archivo.json").write_text('{"videos": {}, "note": "LEAK"}')
    (data_dir / "videos-old").mkdir()
    (data_dir / "videos-old" / "x.jpg").write_bytes(b"LEAK")
    (data_dir / "downloads").mkdir()
    (data_dir / "downloads" / "y.mp4").write_bytes(b"LEAK")
    (data_dir / "videos" / "catalog.json").symlink_to(data_dir / "catalog" / "archivo.json")
    auth = data_dir / "videos" / "auth.txt"
    auth.write_text("ana:LEAK\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(data_dir, "archivo", "x", "cpu", "edge", None, None, 2.0)
    options = {**launch_options(settings, UiSettings(port=port, auth_file=auth)), "auth": None}
    with gr.Blocks() as demo:
        gr.Markdown("x")
    demo.launch(**options, prevent_thread_lock=True, quiet=True)
    root = data_dir.resolve()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/", timeout=10) as http:
            assert http.get(f"gradio_api/file={root}/videos/{VIDEO_ID}/clip-x/thumbs/shot_0000.jpg").status_code == 200
            for path in [f"{root}/videos/%2e%2e/catalog/archivo.json",
                         f"{root}/videos/{VIDEO_ID}/%2E%2E/%2E%2E/catalog/archivo.json",
                         f"{root}/videos/escape.jpg", f"{root}/videos/catalog.json", f"{root}/videos-old/x.jpg",
                         f"{root}/downloads/y.mp4", f"{root}/videos/auth.txt"]:
                response = http.get(f"gradio_api/file={path}")
                assert response.status_code in (403, 404), path
                assert "LEAK" not in response.text and "secret" not in response.text
            # Run history is off: its page and its Hugging Face bucket routes are not there.
            for route in ("gradio_api/runs", "gradio_api/run-history/buckets"):
                assert http.get(route).status_code == 404, route
    finally:
        demo.close()



# --- no existence oracle, no server paths in what users read ----------------------------------------------


@MODEST
@given(st.sampled_from(["etc", "srv/secret", "home/x/.ssh", "nowhere/at/all", "tmp"]), st.booleans())
def test_a_path_outside_the_roots_gets_the_same_answer_whether_it_exists_or_not(tmp_path_factory, name, exists):
    """Red team: /ingest_folder and /analyze_batch answered 'does not exist' for missing paths and
    'outside the allowed folders' for existing ones, an oracle for the server's file system."""
    pytest.importorskip("gradio")
    from app.ui.paths import FolderRefused, check_folder, check_path

    base = tmp_path_factory.getbasetemp() / "oracle"
    root = base / "archive"
    root.mkdir(parents=True, exist_ok=True)
    target = base / name
    if exists:
        target.mkdir(parents=True, exist_ok=True)
    for check, key in ((check_folder, "folder_outside"), (check_path, "path_outside")):
        for text in (str(target), f"{root}/../{name}", str(target / "deeper")):
            with pytest.raises(FolderRefused) as refused:
                check(text, [root])
            assert refused.value.key == key, (text, exists)


def test_messages_for_web_users_carry_no_absolute_server_path(tmp_path):
    pytest.importorskip("gradio")
    from app.ui.errors import public_message

    data = tmp_path / "data"
    cases = {
        "/tmp/gradio/3f2a9c/clip.mp4: not a readable media file": "clip.mp4: not a readable media file",
        f"{data}/uploads/ab/00/x.mp4: no video stream": "data/uploads/ab/00/x.mp4: no video stream",
        f"the data directory {data} has 1.0 GB free": "the data directory data has 1.0 GB free",
        "https://www.youtube.com/watch?v=x: refused, host 10.0.0.1": "https://www.youtube.com/watch?v=x: refused, "
                                                                    "host 10.0.0.1",
        "Qdrant at http://qdrant:6333 could not search": "Qdrant at http://qdrant:6333 could not search",
        "relative/path and ./here stay": "relative/path and ./here stay",
    }
    for text, expected in cases.items():
        assert public_message(text, data) == expected
    assert public_message("cannot open /srv/archivo/privado/cinta.mov (errno 13)", data) == "cannot open cinta.mov (errno 13)"
