"""Each hostile-input class of the red team (issue 13), tried and counted. Prints JSON.

    python bench/hostile.py [--quick]

File-route requests (traversal, encodings, links, files of the data directory), SSRF URL forms
and redirects and a DNS rebinding (requests that reached a listener), upload caps, 200 wrong
passwords, weak passwords, HTML in an evaluation log, and damaged store files (each segment file
truncated, zeroed, randomised: how each process ended). Servers run on loopback only. Never part
of the test run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from reliability import DB, machine  # noqa: E402

from testkit import free_port  # noqa: E402


def _launch_guarded(data: Path, **ui_changes):
    import gradio as gr

    from app.config import Settings
    from app.ui.app import launch_options
    from app.ui.settings import UiSettings

    settings = Settings(data, DB, "x", "cpu", "edge", None, None, 2.0)
    ui = UiSettings(port=free_port(), **ui_changes)
    with gr.Blocks() as demo:
        gr.Markdown("x")
    demo.launch(**launch_options(settings, ui), prevent_thread_lock=True, quiet=True)
    return demo, f"http://127.0.0.1:{ui.port}/"


def file_route(work: Path) -> dict:
    import httpx

    video = "0123456789abcdef0123"
    data = (work / "data").resolve()
    files = {f"videos/{video}/clip-x/thumbs/shot_0000.jpg": True, f"media/{video}.mp4": True,
             f"videos/{video}/info.json": False, f"videos/{video}/clip-x/embeddings.npy": False,
             f"videos/{video}/clip-x/segmentation.json": False, "catalog/archivo.json": False,
             "edge/archivo/collection.json": False, "jobs/x/manifest.json": False, "downloads/Generic/a.mp4": False,
             "uploads/ab/00/x.mp4": False, "config/auth.txt": False}
    for relative in files:
        (data / relative).parent.mkdir(parents=True, exist_ok=True)
        (data / relative).write_bytes(b"LEAK")
    (work / "outside.txt").write_text("LEAK")
    (data / "media" / f"{video}.mkv").symlink_to(work / "outside.txt")
    (data / "videos-old").mkdir()
    (data / "videos-old" / "x.jpg").write_text("LEAK")
    probes = [(f"{data}/{r}", allowed) for r, allowed in files.items()]
    probes += [(p, False) for p in [
        f"{data}/media/{video}.mkv", f"{data}/videos-old/x.jpg", f"{work}/outside.txt", "/etc/passwd",
        f"{data}/videos/%2e%2e/catalog/archivo.json", f"{data}/videos/{video}/%2E%2E/%2E%2E/catalog/archivo.json",
        f"{data}/media/..%2fcatalog%2farchivo.json", f"{data}/videos/{video}/clip-x/thumbs/../embeddings.npy",
        f"{data}//catalog/archivo.json", f"{data}/./catalog/./archivo.json", "../../../../etc/passwd",
        f"{data}/media/{video}.mp4/../../catalog/archivo.json", f"{data}/edge/.busca.lock"]]
    demo, url = _launch_guarded(work / "data")
    outcome = {"requests": 0, "served_as_designed": 0, "refused": 0, "leaked": []}
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            for path, allowed in probes:
                response = http.get(f"gradio_api/file={path}")
                outcome["requests"] += 1
                if response.status_code == 200 and allowed:
                    outcome["served_as_designed"] += 1
                elif response.status_code == 200:
                    outcome["leaked"].append(path)
                else:
                    outcome["refused"] += 1
    finally:
        demo.close()
    return outcome


def ssrf(work: Path) -> dict:
    from pipeline.errors import UrlError
    from pipeline.sources import UrlPolicy
    from pipeline.sources.fetch import SourceOptions, fetch_url

    hits: list[str] = []

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    listener = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    port = listener.server_port
    hosts = ["127.0.0.1", "localhost", "127.1", "0x7f000001", "2130706433", "017700000001", "[::1]",
             "[::ffff:127.0.0.1]", "0.0.0.0", "169.254.169.254", "10.0.0.1", "192.168.1.1", "172.16.0.1",
             "100.64.0.1", "[fc00::1]", "[fe80::1]", "224.0.0.1", "255.255.255.255", "192.0.0.1", "[64:ff9b::7f00:1]",
             "[2002:7f00:1::]", "metadata.google.internal", "localhost.", "LOCALHOST"]
    forms = [f"http://{h}:{port}/x.mp4" for h in hosts] + [
        "file:///etc/passwd", "gopher://127.0.0.1:70/", f"ftp://127.0.0.1:{port}/", "javascript:alert(1)",
        f"http://user:pw@www.youtube.com@127.0.0.1:{port}/", f"http://www.youtube.com.127.0.0.1.nip.io:{port}/",
        f"http://youtube.com#@127.0.0.1:{port}/", f"https://www.youtube.com:{port}@127.0.0.1/", "http:///x",
        f"http://127.0.0.1:{port}\\@www.youtube.com/", "dict://127.0.0.1:11211/"]
    policy = UrlPolicy(extra_hosts=("example.org",))
    refused = 0
    for url in forms:
        try:
            fetch_url(url, SourceOptions(cache_dir=work / "cache", policy=policy))
        except UrlError:
            refused += 1
        except Exception:  # noqa: BLE001 - anything else is not a refusal
            pass

    class Redirector(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", TARGETS[int(self.path.strip("/") or 0)])
            self.end_headers()

        def log_message(self, *a):
            pass

    TARGETS = [f"http://{h}:{port}/secret" for h in hosts]
    redirector = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Redirector)
    threading.Thread(target=redirector.serve_forever, daemon=True).start()
    trusted = UrlPolicy(extra_hosts=("127.0.0.2",), trusted_private_hosts=("127.0.0.2",))
    redirect_refused = 0
    for i in range(len(TARGETS)):
        try:
            fetch_url(f"http://127.0.0.2:{redirector.server_port}/{i}",
                      SourceOptions(cache_dir=work / "cache2", policy=trusted, js_runtime="none"))
        except UrlError:
            redirect_refused += 1
        except Exception:  # noqa: BLE001
            pass
    rebinding = {"calls": 0}

    def rebind(host, port_):
        rebinding["calls"] += 1
        return ["93.184.216.34"] if rebinding["calls"] <= 2 else ["127.0.0.1"]

    try:
        fetch_url(f"http://rebind.example.org:{port}/x.mp4", SourceOptions(cache_dir=work / "cache3", policy=policy,
                                                                            js_runtime="none"), resolve=rebind)
        rebind_refused = False
    except UrlError:
        rebind_refused = True
    listener.shutdown()
    redirector.shutdown()
    return {"url_forms": len(forms), "url_forms_refused": refused, "redirects": len(TARGETS),
            "redirects_refused": redirect_refused, "dns_rebinding_refused": rebind_refused,
            "requests_that_reached_the_listener": len(hits)}


def uploads_and_logins(work: Path) -> dict:
    import httpx

    strong = "sierra-tango-042!"
    demo, url = _launch_guarded(work / "data2", auth=(("ana", strong),), max_request_mb=1, max_files=3)
    out: dict = {}
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            t0 = time.perf_counter()
            codes = [http.post("login", data={"username": "ana", "password": f"x{i}"}).status_code for i in range(200)]
            out["wrong_passwords"] = {"tries": 200, "checked": codes.count(400), "throttled_429": codes.count(429),
                                      "seconds": round(time.perf_counter() - t0, 2)}
    finally:
        demo.close()
    demo, url = _launch_guarded(work / "data3", auth=(("ana", strong),), max_request_mb=1, max_files=3)  # a fresh limiter
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.post("login", data={"username": "ana", "password": strong}).status_code == 200
            big = [("files", (f"b{i}.bin", io.BytesIO(b"x" * 600_000))) for i in range(2)]
            many = [("files", (f"f{i}.txt", io.BytesIO(b"x"))) for i in range(1000)]
            out["uploads"] = {
                "two_files_over_the_request_cap": http.post("gradio_api/upload", files=big).status_code,
                "1000_files": http.post("gradio_api/upload", files=many).status_code,
                "no_content_length": http.post("gradio_api/upload", content=iter([b"--x\r\n"]), headers={
                    "Content-Type": "multipart/form-data; boundary=x"}).status_code}
    finally:
        demo.close()
    return out


def damaged_store(work: Path, quick: bool) -> dict:
    from pipeline.core import NO_MARGIN
    from pipeline.store import point_id
    from pipeline.store.edge import EdgeStore

    source = work / "pristine"
    with EdgeStore(source, margin=NO_MARGIN) as store:
        store.ensure_collection("db", {"clip": 16})
        x = np.random.default_rng(0).normal(size=(200, 16)).astype(np.float32)
        store.upsert("db", [point_id("0123456789abcdef0123", i) for i in range(200)], {"clip": x},
                     [{"video_id": "0123456789abcdef0123", "shot_index": i} for i in range(200)])
        store.flush()
    probe = ("import sys, numpy as np\nfrom pipeline.store.edge import EdgeStore\nfrom pipeline.errors import StoreError\n"
             "s = EdgeStore(sys.argv[1])\nfor f in (lambda: s.query('db', 'clip', np.ones(16, np.float32), 5, "
             "one_per_video=True), lambda: list(s.scroll('db', with_vectors=True)), lambda: s.count('db')):\n"
             "    try:\n        f()\n    except StoreError:\n        print('store_error')\n        sys.exit(0)\n"
             "print('ok')\n")
    files = sorted(p.relative_to(source) for p in source.rglob("*") if p.is_file() and "segments" in p.parts)
    if quick:
        files = files[::3]
    outcomes: dict[str, int] = {}
    rng = random.Random(1)
    for relative in files:
        for mutation in ("truncate_half", "zero_4k", "random_4k"):
            target = work / "damaged"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)
            path = target / relative
            data = path.read_bytes()
            if mutation == "truncate_half":
                data = data[: len(data) // 2]
            elif mutation == "zero_4k":
                data = b"\0" * min(len(data), 4096) + data[4096:]
            else:
                data = bytes(rng.getrandbits(8) for _ in range(min(len(data), 4096))) + data[4096:]
            path.write_bytes(data)
            done = subprocess.run([sys.executable, "-c", probe, str(target)], cwd=ROOT, capture_output=True,
                                  text=True, env={**os.environ, "PYTHONPATH": str(ROOT), "RUST_BACKTRACE": "0"})
            if done.returncode == 0:
                key = done.stdout.strip() or "ok"
            elif "PanicException" in done.stderr:
                key = "panic_leaked"
            else:
                key = f"died_{done.returncode}"
            outcomes[key] = outcomes.get(key, 0) + 1
    return {"files": len(files), "cases": sum(outcomes.values()), "outcomes": outcomes}


def hostile(args) -> dict:
    from app.ui.settings import weak_password
    from pipeline.evaluation.report import _escape

    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        work = Path(tmp)
        result = {"file_route": file_route(work), "ssrf": ssrf(work), **uploads_and_logins(work)}
        weak = ["clave", "password1234", "ana-ana-ana-ana", "aaaaaaaaaaaaaaaa", "123456789012", "Contraseña2026!",
                "buscaescenas-2026", "qwertyuiop12", "letmein-letmein", "changeme-please"]
        result["weak_passwords"] = {"tried": len(weak), "refused": sum(weak_password("ana", p) is not None for p in weak)}
        html = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '[x](javascript:alert(1))', '| a | b |',
                '`code`', '<iframe src="//evil">']
        live = re.compile(r"<|(?<!\\)\]\(|(?<!\\)`|(?<!\\)\|")  # a tag, a link, a code span, a table cell
        result["evaluation_log_html"] = {"tried": len(html), "escaped": sum(not live.search(_escape(h)) for h in html)}
        result["damaged_store"] = damaged_store(work, args.quick)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a third of the store files in the damage test")
    args = parser.parse_args()
    started = time.monotonic()
    with contextlib.redirect_stdout(sys.stderr):  # Gradio prints to stdout; the JSON goes there alone
        figures = hostile(args)
    print(json.dumps({"benchmark": "hostile", **figures, "wall_s": round(time.monotonic() - started, 1),
                      "machine": machine()}, indent=1))


if __name__ == "__main__":
    main()
