"""A body over the upload limit gets the 413 JSON over a real connection (uvicorn), whether its size is
declared (Content-Length) or only counted as it streams in: the client must read an answer, not a reset.

An empty registry serves: the limit is checked before any model is asked."""
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from ffnn.web import upload  # noqa: E402
from ffnn.web.registry import Registry  # noqa: E402
from ffnn.web.serve import background  # noqa: E402

BIG = 30 * 2**20  # the 30 MB photo, six times the limit


@pytest.fixture(scope="module")
def server():
    with background(Registry([])) as base:
        yield base


def _assert_413(response, *words):
    assert response.status_code == 413, response.text
    body = response.json()
    assert set(body) == {"error"} and f"limit of {upload.MAX_UPLOAD_BYTES:,} bytes" in body["error"]
    for word in words:
        assert word in body["error"]


def test_a_30_mb_upload_with_its_size_declared_gets_413(server):
    response = httpx.post(f"{server}/api/predict", files={"image": ("big.png", b"\0" * BIG, "image/png")},
                          timeout=120)
    _assert_413(response, "upload of 31,457,")


def test_a_30_mb_upload_streamed_without_a_size_gets_413(server):
    def chunks():
        yield b'--b\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\n\r\n'
        for _ in range(BIG // 2**16):
            yield b"\0" * 2**16
        yield b"\r\n--b--\r\n"

    response = httpx.post(f"{server}/api/predict", content=chunks(), timeout=120,
                          headers={"content-type": "multipart/form-data; boundary=b"})
    _assert_413(response, "more than")


def test_the_connection_still_serves_after_a_refused_upload(server):
    with httpx.Client(timeout=120) as client:
        _assert_413(client.post(f"{server}/api/predict", files={"image": ("big.png", b"\0" * BIG, "image/png")}))
        assert client.get(f"{server}/api/models").json() == []


def test_requests_gets_the_413_too(server):
    requests = pytest.importorskip("requests")
    response = requests.post(f"{server}/api/predict", files={"image": ("big.png", b"\0" * BIG, "image/png")},
                             timeout=120)
    _assert_413(response)


def test_the_limit_is_published_for_the_page(server):
    assert httpx.get(f"{server}/api/limits").json() == {"max_upload_bytes": upload.MAX_UPLOAD_BYTES,
                                                        "max_pixels": upload.MAX_PIXELS}
