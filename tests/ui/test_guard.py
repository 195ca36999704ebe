"""The guards in front of Gradio's routes (:mod:`app.ui.guard`), each red-team attack kept as a
test: files of the data directory that pages do not need, oversized and crowded upload requests,
uploads on a short disk, login guessing; and what ``/videos`` tells a client."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.ui.guard import LoginLimiter, served_file_allowed
from app.ui.settings import UiSettings

from testkit import free_port

VIDEO = "0123456789abcdef0123"
STRONG = "sierra-tango-042!"


@pytest.fixture(scope="module")
def small_app(tmp_path_factory):
    """A bare Blocks launched with the app's launch options: caps of 1 MB and 3 files per
    request, and a login."""
    import gradio as gr
    from gradio.utils import get_upload_folder

    from app.ui.app import launch_options

    data = tmp_path_factory.mktemp("guard") / "data"
    (data / "videos" / VIDEO / "clip-x" / "thumbs").mkdir(parents=True)
    settings = Settings(data, "archivo", "x", "cpu", "edge", None, None, 2.0)
    ui = UiSettings(port=free_port(), auth=(("ana", STRONG),), max_request_mb=1, max_files=3)
    with gr.Blocks() as demo:
        gr.Markdown("x")
    demo.launch(**launch_options(settings, ui), prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{ui.port}/", Path(get_upload_folder())
    finally:
        demo.close()


def _login(http: httpx.Client, password: str) -> int:
    return http.post("login", data={"username": "ana", "password": password}).status_code


def _uploads(folder: Path, marker: str) -> list[Path]:
    return [p for p in folder.rglob(f"*{marker}*") if p.is_file()]


def test_an_upload_request_is_capped_in_bytes_and_files_and_a_refused_one_leaves_nothing(small_app):
    """Red team: two 125 MB files passed a 200 MB per-file cap, and a request could carry 1,000 files."""
    url, upload_dir = small_app
    with httpx.Client(base_url=url, timeout=30) as http:
        assert _login(http, STRONG) == 200
        two = [("files", (f"big{i}-bytescap.bin", io.BytesIO(b"x" * 600_000))) for i in range(2)]
        refused = http.post("gradio_api/upload", files=two)
        assert refused.status_code == 413 and "1 MB" in refused.text
        many = [("files", (f"f{i}-countcap.txt", io.BytesIO(f"{i}".encode()))) for i in range(5)]
        refused = http.post("gradio_api/upload", files=many)
        assert refused.status_code == 413 and "5" in refused.text and "3" in refused.text
        assert _uploads(upload_dir, "bytescap") == [] and _uploads(upload_dir, "countcap") == []
        ok = http.post("gradio_api/upload", files=[("files", ("fine-ok.txt", io.BytesIO(b"hola")))])
        assert ok.status_code == 200 and Path(ok.json()[0]).read_bytes() == b"hola"
        chunked = http.post("gradio_api/upload", content=iter([b"--x\r\n"]),
                            headers={"Content-Type": "multipart/form-data; boundary=x"})
        assert chunked.status_code == 411


def test_an_upload_is_refused_while_the_disk_keeps_less_than_the_margin(small_app, monkeypatch):
    import app.ui.guard as guard

    url, _ = small_app
    monkeypatch.setattr(guard, "space_shortfall", lambda path, margin, extra=0: (10, 1 << 30))
    with httpx.Client(base_url=url, timeout=30) as http:
        assert _login(http, STRONG) == 200
        refused = http.post("gradio_api/upload", files=[("files", ("a.txt", io.BytesIO(b"a")))])
    assert refused.status_code == 507 and "espacio" in refused.text and "/" not in refused.text


def test_failed_logins_are_limited_per_client(small_app):
    """Red team: 200 wrong passwords took 0.41 s. Now the sixth try within a minute is refused,
    even with the right password."""
    url, _ = small_app
    with httpx.Client(base_url=url, timeout=30) as http:
        codes = [_login(http, f"wrong-{i}") for i in range(5)]
        assert codes == [400] * 5
        throttled = http.post("login", data={"username": "ana", "password": STRONG})
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1


def test_the_login_limiter_forgets_failures_after_the_window_and_counts_all_clients():
    now = [0.0]
    limiter = LoginLimiter(per_client=3, overall=5, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        limiter.failed("10.0.0.1")
    assert limiter.wait("10.0.0.1") == pytest.approx(60) and limiter.wait("10.0.0.2") == 0
    limiter.failed("10.0.0.2")
    limiter.failed("10.0.0.3")
    assert limiter.wait("10.0.0.4") == pytest.approx(60)  # 5 failures in total: everyone waits
    now[0] = 61.0
    assert limiter.wait("10.0.0.1") == 0 and limiter.wait("10.0.0.4") == 0
    limiter.failed("10.0.0.1")
    limiter.succeeded("10.0.0.1")
    assert limiter.wait("10.0.0.1") == 0


def test_only_thumbnails_analysis_frames_and_media_are_served_from_the_data_dir(tmp_path):
    data = tmp_path / "data"
    served = [f"videos/{VIDEO}/clip-vit-l-14-openai/thumbs/shot_0003.jpg", f"media/{VIDEO}.mp4",
              f"videos/{VIDEO}/analysis/frames/shot_0001_0.jpg"]
    refused = [f"videos/{VIDEO}/info.json", f"videos/{VIDEO}/clip-x/embeddings.npy",
               f"videos/{VIDEO}/clip-x/segmentation.json", f"videos/{VIDEO}/clip-x/meta.json", "catalog/archivo.json",
               "edge/archivo/collection.json", f"media/{VIDEO}.mp4/../../catalog/archivo.json", "uploads/x/00/a.mp4",
               f"videos/{VIDEO}/analysis/analysis.json", "jobs/20260101-000000-abcdef/manifest.json"]
    for relative in served + refused:
        (data / relative).parent.mkdir(parents=True, exist_ok=True)
    for relative in served:
        assert served_file_allowed(str(data / relative), data), relative
    for relative in refused:
        assert not served_file_allowed(str(data / relative), data), relative
    (data / "media" / f"{VIDEO}.mkv").symlink_to(data / "catalog" / "archivo.json")  # a link in media/ leading out
    assert not served_file_allowed(str(data / "media" / f"{VIDEO}.mkv"), data)
    assert served_file_allowed(str(tmp_path / "elsewhere" / "x.csv"), data)  # Gradio's own rules decide


def test_the_server_refuses_info_json_and_embeddings(running_app):
    """Red team: the served info.json held the original source path, and embeddings.npy was served."""
    video = running_app.data_dir.resolve() / "videos" / running_app.video_id
    with httpx.Client(base_url=running_app.url) as http:
        for path in [video / "info.json", *video.rglob("embeddings.npy"), *video.rglob("segmentation.json")]:
            response = http.get(f"gradio_api/file={path}")
            assert response.status_code == 403 and "slideshow" not in response.text, path
        assert http.get(f"gradio_api/file={next(video.rglob('shot_0000.jpg'))}").status_code == 200


def test_videos_through_gradio_client_carry_no_server_path_and_download_nothing(running_app, tmp_path):
    """Red team: every record had a "path" key, which gradio_client takes for a file: /videos
    downloaded every video of the database."""
    from gradio_client import Client

    downloads = tmp_path / "downloads"
    client = Client(running_app.url, verbose=False, download_files=str(downloads))
    records = client.predict("archivo", api_name="/videos")
    assert records and all("path" not in r for r in records)
    assert records[0]["video_id"] == running_app.video_id and records[0]["source"] == "slideshow.mp4"
    assert not any(str(v).startswith("/") for r in records for v in r.values())
    assert not downloads.exists() or not any(downloads.rglob("*"))


def test_ingest_errors_name_the_file_not_the_servers_folders(client, running_app, tmp_path):
    """Red team: error messages showed Gradio's temporary upload folders."""
    from gradio.utils import get_upload_folder
    from gradio_client import handle_file

    broken = tmp_path / "roto-sin-ruta.mp4"
    broken.write_text("not a video")
    table, *_ = client.predict([handle_file(str(broken))], "subidas", False, api_name="/ingest")
    [row] = table["data"]
    assert "roto-sin-ruta.mp4" in row[5] and str(get_upload_folder()) not in row[5]
    assert str(running_app.data_dir.resolve()) not in row[5] and not row[5].startswith("/")
    assert not list(Path(get_upload_folder()).rglob("roto-sin-ruta.mp4"))  # taken out of Gradio's folder at once


def test_folder_paths_outside_the_roots_get_one_answer_whether_they_exist_or_not(client, running_app):
    """Red team: /ingest_folder answered differently for existing and missing paths outside the roots."""
    from gradio_client.exceptions import AppError

    outside = running_app.ingest_root.parent
    answers = []
    for path in (outside, outside / "no-such-folder", outside / "no-such-folder" / "deeper"):
        with pytest.raises(AppError) as refused:
            client.predict(str(path), "carpeta", False, api_name="/ingest_folder")
        answers.append(str(refused.value).replace(f"La carpeta {path} ", "La carpeta PATH "))
    assert len(set(answers)) == 1 and "fuera de las carpetas permitidas" in answers[0]


def test_exposed_or_weak_configurations_refuse_to_start(tmp_path):
    from app.ui.settings import exposure_problem, weak_password

    open_ui = UiSettings(host="0.0.0.0")
    assert "without a login" in exposure_problem(open_ui) and "BUSCA_ALLOW_ANONYMOUS=1" in exposure_problem(open_ui)
    assert exposure_problem(replace(open_ui, allow_anonymous=True)) is None
    assert exposure_problem(replace(open_ui, auth=(("ana", STRONG),))) is None
    assert exposure_problem(UiSettings()) is None  # loopback without a login: fine
    assert "too weak" in exposure_problem(UiSettings(auth=(("ana", "clave"),)))  # even on loopback
    for password in ("corta", "aaaaaaaaaaaaaaa", "ana-y-sus-cosas", "MiPassword2026!", "123456789012x"):
        assert weak_password("ana", password), password
    assert weak_password("ana", STRONG) is None
    settings = Settings(tmp_path, "archivo", "x", "cpu", "edge", None, None, 2.0)
    env = {"BUSCA_HOST": "0.0.0.0", "BUSCA_ALLOW_ANONYMOUS": "1", "BUSCA_MAX_REQUEST_MB": "50",
           "BUSCA_MAX_UPLOAD_FILES": "4"}
    ui = UiSettings.from_env(settings, env)
    assert ui.allow_anonymous and ui.max_request_mb == 50 and ui.max_files == 4


def test_serve_refuses_to_listen_beyond_loopback_without_a_login(tmp_path, monkeypatch):
    from app.ui.app import serve
    from pipeline.errors import ConfigError

    for name in ("BUSCA_AUTH", "BUSCA_AUTH_FILE", "BUSCA_ALLOW_ANONYMOUS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(tmp_path, "archivo", "x", "cpu", "edge", None, None, 2.0)
    with pytest.raises(ConfigError, match="without a login"):
        serve(settings, host="0.0.0.0")
    assert not (tmp_path / "edge").exists()  # refused before anything opened


def test_a_refused_url_logs_one_line_and_no_traceback(client, capfd, caplog):
    """Red team: each refused URL logged a ~50-line traceback (Gradio prints one for every gr.Error)."""
    from gradio_client.exceptions import AppError

    capfd.readouterr()
    with caplog.at_level("WARNING", logger="app.ui"), pytest.raises(AppError, match="169.254.169.254"):
        client.predict(None, "http://169.254.169.254/latest/meta-data", api_name="/analyze_video")
    printed = capfd.readouterr()
    assert "Traceback" not in printed.err + printed.out
    lines = [r.getMessage() for r in caplog.records if "169.254.169.254" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0]


def test_a_search_on_a_damaged_database_ends_with_an_error(tmp_path, tiny_encoder):
    """Red team: a damaged payload made Qdrant Edge panic (a BaseException), and /search never answered."""
    import gradio as gr
    import numpy as np

    from app.services import Services
    from app.ui.context import Texts, UiContext
    from app.ui.tabs.search import SearchHandlers
    from pipeline.index import DataLayout, VideoCatalog
    from pipeline.store import open_store, point_id

    data = tmp_path / "data"
    with open_store(data) as store:
        store.ensure_collection("archivo", {tiny_encoder.vector_name: tiny_encoder.dim})
        x = np.random.default_rng(0).normal(size=(30, tiny_encoder.dim)).astype(np.float32)
        store.upsert("archivo", [point_id(VIDEO, i) for i in range(30)], {tiny_encoder.vector_name: x},
                     [{"video_id": VIDEO, "shot_index": i} for i in range(30)])
        store.flush()
    [status] = (data / "edge" / "archivo" / "shard").glob("segments/*/vector_storage-*/vectors/status.dat")
    status.write_bytes(status.read_bytes()[:4])  # the damage that makes Edge panic in a search
    settings = Settings(data, "archivo", "x", "cpu", "edge", None, None, 2.0)
    services = Services(settings, DataLayout(data), VideoCatalog(data), open_store(data), tiny_encoder)
    ctx = UiContext(services, UiSettings(), Texts("es"))
    try:
        with pytest.raises(gr.Error, match="dañados") as ended:
            SearchHandlers(ctx).search("archivo", "una plaza", None, 0.5, 5, False, [], "es")
        assert str(data) not in str(ended.value)
    finally:
        ctx.close()
        services.close()
