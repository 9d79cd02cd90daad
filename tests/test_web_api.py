"""The JSON API of ``ffnn serve`` (FastAPI's TestClient): every endpoint, every error, and the command."""
import json
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("python_multipart")
pytest.importorskip("httpx")

with warnings.catch_warnings():  # Starlette 1.x would rather use httpx2; httpx works the same for these tests
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from helpers import web as _web  # noqa: E402
from ffnn.cli import main  # noqa: E402
from ffnn.functional import softmax  # noqa: E402
from ffnn.imaging import load_digit, mnist_like  # noqa: E402
from ffnn.web import upload  # noqa: E402
from ffnn.web.app import create_app  # noqa: E402
from ffnn.web.registry import Registry, unique_names  # noqa: E402


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(_web.registry()))


def _post(client, data: bytes, name="digit.png", query=""):
    return client.post("/api/predict" + query, files={"image": (name, data, "application/octet-stream")})


def _assert_error(response, status: int, *words):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and "\n" not in body["error"]
    for word in words:
        assert word in body["error"]


# ---------------------------------------------------------------------------- models


def test_models_lists_every_backend_run_with_its_metrics_and_history(client):
    models = client.get("/api/models").json()
    assert [m["name"] for m in models] == list(_web.backends())
    for m in models:
        run = _web.compare_dir() / m["name"]
        metrics = json.loads((run / "metrics.json").read_text())
        history = json.loads((run / "history.json").read_text())["history"]
        assert m["backend"] == m["name"] and m["layer_sizes"] == [784, 128, 64, 10]
        assert m["test_accuracy"] == metrics["test_accuracy"]
        assert m["history"]["accuracy"] == history["accuracy"] and len(m["history"]["val_accuracy"]) == 2
        assert m["activation"] == "sigmoid"


def test_runs_sharing_a_backend_get_unique_names(tmp_path):
    assert unique_names(["numpy", "torch", "numpy", "numpy"]) == ["numpy", "torch", "numpy-2", "numpy-3"]
    numpy_run = _web.compare_dir() / "numpy"
    reg = Registry.from_paths([numpy_run, numpy_run])
    models = TestClient(create_app(reg)).get("/api/models").json()
    assert [(m["name"], m["backend"]) for m in models] == [("numpy", "numpy"), ("numpy-2", "numpy")]


# ---------------------------------------------------------------------------- predict


def test_predict_equals_ffnn_predict_json(client, tmp_path, capsys, mnist):
    (_, _), (x_test, _) = mnist
    path = tmp_path / "seven.png"
    path.write_bytes(_web.png(255 - x_test[0]))  # dark on light, as a scan would be
    body = _post(client, path.read_bytes()).json()
    np.testing.assert_array_equal(np.array(body["input"], dtype=np.float32), load_digit(path))
    for p in body["predictions"]:
        capsys.readouterr()
        assert main(["predict", str(_web.compare_dir() / p["name"]), str(path), "--json", "--top", "10"]) == 0
        cli = json.loads(capsys.readouterr().out)[0]
        assert p["prediction"] == cli["prediction"]
        assert p["probabilities"] == [t["probability"] for t in sorted(cli["top"], key=lambda t: t["class"])]


def test_a_vertical_stroke_reads_as_one_and_the_steps_describe_the_preprocessing(client):
    body = _post(client, _web.stroke_png()).json()
    assert [p["prediction"] for p in body["predictions"]] == [1] * len(_web.backends())
    for p in body["predictions"]:
        assert len(p["probabilities"]) == 10 and abs(sum(p["probabilities"]) - 1) < 1e-5
    steps = body["steps"]
    assert steps["sizes"]["gray"] == [280, 280]
    h, w = steps["sizes"]["crop"]
    assert h > 180 and w < 30 and steps["sizes"]["fitted"] == [20, max(1, round(w * 20 / h))]
    assert np.array(steps["gray"]).shape == (56, 56)  # a 280x280 preview shrunk for the page
    assert np.hypot(steps["center"][0] - 14, steps["center"][1] - 14) <= 0.75


def test_inspect_returns_hidden_activations_that_lead_to_the_predicted_probabilities(client):
    """The last layer applied to the returned activations gives the backend's own probabilities."""
    reg = _web.registry()
    for name in reg.models:
        body = _post(client, _web.stroke_png(), query=f"?inspect={name}").json()
        hidden = body["hidden"]
        assert hidden["name"] == name and [len(a) for a in hidden["layers"]] == [128, 64]
        assert all(0 < v < 1 for layer in hidden["layers"] for v in layer)  # sigmoid units
        W, b = reg.get(name).model.export_weights()[-1]
        proba = softmax(np.array([hidden["layers"][-1]]) @ W + b)[0]
        mine = next(p for p in body["predictions"] if p["name"] == name)["probabilities"]
        np.testing.assert_allclose(proba, mine, atol=1e-5)


def test_weights_of_a_unit_are_its_first_layer_column_as_an_image(client):
    for name, model in _web.registry().models.items():
        body = client.get(f"/api/models/{name}/weights/5").json()
        W = model.model.export_weights()[0][0]
        assert body["shape"] == [28, 28]
        np.testing.assert_allclose(np.array(body["weights"]), W[:, 5].reshape(28, 28), atol=1e-5)
        assert body["scale"] == pytest.approx(np.abs(W[:, 5]).max(), rel=1e-5)


# ---------------------------------------------------------------------------- errors


def test_bad_uploads_get_400(client):
    _assert_error(_post(client, b"hello, not an image", name="notes.txt"), 400, "not an image")
    _assert_error(_post(client, b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"), 400, "not an image")
    _assert_error(_post(client, _web.stroke_png()[:200]), 400, "cannot read the image")
    _assert_error(_post(client, _web.png(np.full((30, 30), 255))), 400, "no digit")
    _assert_error(client.post("/api/predict", files={"picture": ("a.png", _web.stroke_png())}), 400, "'image'")
    _assert_error(client.post("/api/predict", data={"image": "not a file"}), 400, "'image'")
    _assert_error(client.post("/api/predict", content=b"--x\r\ngarbage",
                              headers={"content-type": "multipart/form-data; boundary=x"}), 400)
    _assert_error(client.get("/api/models/numpy/weights/seven"), 400, "unit")


def test_uploads_over_the_byte_limit_get_413_whether_declared_or_streamed(client):
    too_big = b"\0" * (upload.MAX_UPLOAD_BYTES + 1)
    _assert_error(_post(client, too_big), 413, "over the limit")

    def chunks():  # no Content-Length: the limit is enforced while reading
        yield b"--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n"
        for _ in range(upload.MAX_UPLOAD_BYTES // 2**16 + 2):
            yield b"\0" * 2**16

    response = client.post("/api/predict", content=chunks(),
                           headers={"content-type": "multipart/form-data; boundary=b"})
    _assert_error(response, 413, "more than")


def test_an_image_with_too_many_pixels_gets_413_before_decoding(client, monkeypatch):
    side = int(np.sqrt(upload.MAX_PIXELS)) + 1
    bomb = _web.png(Image.new("1", (side, side)))  # a few kB of PNG, 16 million pixels
    assert len(bomb) < 100_000

    def no_decoding(self, *a, **k):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decoding)
    _assert_error(_post(client, bomb), 413, "pixels")


def test_unknown_paths_models_and_units_get_404_and_static_files_stay_in_the_package(client):
    _assert_error(client.get("/nope"), 404, "/nope")
    _assert_error(client.get("/api/models/nope/weights/0"), 404, "nope", "numpy")
    _assert_error(client.get("/api/models/numpy/weights/128"), 404, "0-127")
    _assert_error(_post(client, _web.stroke_png(), query="?inspect=nope"), 404, "nope")
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fregistry.py",
                 "/static/%2e%2e/%2e%2e/cli.py", "/static//etc/passwd", "/static/missing.js"):
        assert client.get(path).status_code == 404, path
    assert client.get("/static/app.js").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and '<canvas id="pad"' in page.text
    assert client.get("/openapi.json").json()["paths"]["/api/predict"]["post"]["requestBody"]


def test_the_server_keeps_serving_after_bad_requests(client):
    for _ in range(3):
        _post(client, b"junk")
        _post(client, b"\0" * (upload.MAX_UPLOAD_BYTES + 1))
        client.get("/nope")
        assert _post(client, _web.stroke_png()).status_code == 200


def test_decode_keeps_the_preprocessing_of_ffnn_predict():
    data = _web.stroke_png()
    steps = upload.decode(data)
    with Image.open(__import__("io").BytesIO(data)) as img:
        np.testing.assert_array_equal(steps.output, mnist_like(img))
    np.testing.assert_array_equal(steps.crop, steps.gray[np.ix_(steps.gray.any(1), steps.gray.any(0))])


# ---------------------------------------------------------------------------- the command


def test_serve_without_a_run_says_how_to_make_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["serve"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ffnn: error: no run to serve") and "make demo" in err and "\n" not in err


@pytest.mark.parametrize("argv, status, words", [
    (["serve", "no/such/run"], 1, "does not exist"),
    (["serve", "--port", "70000"], 2, "0-65535"),
    (["serve", "--host", "no.such.host.invalid", "--port", "0"], 1, "cannot listen"),
])
def test_serve_bad_input_is_one_line(argv, status, words, capsys):
    if "--host" in argv:
        argv = [argv[0], str(_web.compare_dir() / "numpy"), *argv[1:]]
    assert main(argv) == status
    err = capsys.readouterr().err.strip()
    assert err.startswith("ffnn: error:") and words in err and "\n" not in err


def test_serve_on_a_port_in_use_is_one_line(capsys):
    from ffnn.web.serve import bind

    taken = bind("127.0.0.1", 0)
    try:
        port = str(taken.getsockname()[1])
        assert main(["serve", str(_web.compare_dir() / "numpy"), "--port", port]) == 1
    finally:
        taken.close()
    err = capsys.readouterr().err.strip()
    assert err == f"ffnn: error: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_serve_warns_off_loopback_only(monkeypatch, capsys):
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    run = str(_web.compare_dir() / "numpy")
    assert main(["serve", run, "--port", "0"]) == 0
    out = capsys.readouterr()
    assert "Serving numpy from" in out.out and "http://127.0.0.1:" in out.out and out.err == ""
    assert main(["serve", run, "--host", "0.0.0.0", "--port", "0"]) == 0
    assert "warning: listening on 0.0.0.0, not loopback" in capsys.readouterr().err


def test_ctrl_c_stops_the_server_cleanly():
    proc = subprocess.Popen([sys.executable, "-m", "ffnn.cli", "serve", str(_web.compare_dir() / "numpy"),
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("Serving numpy"), line + proc.stderr.read()
        url = line.split(" on ")[1].split()[0]
        import httpx

        assert httpx.get(url + "api/models", timeout=10).json()[0]["name"] == "numpy"
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err


def test_a_run_with_an_unknown_activation_is_refused_by_name(tmp_path, capsys):
    import shutil

    run = tmp_path / "numpy"
    shutil.copytree(_web.compare_dir() / "numpy", run)
    config = json.loads((run / "config.json").read_text())
    config["config"]["activation"] = "swish"
    (run / "config.json").write_text(json.dumps(config))
    assert main(["serve", str(run), "--port", "0"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ffnn: error:") and "'swish'" in err and "config.json" in err
