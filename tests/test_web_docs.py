"""``/docs`` works offline: the Swagger UI page loads its script and style from the server, not from a CDN."""
import re
import warnings

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytest.importorskip("fastapi_offline", reason="/docs serves fastapi-offline's Swagger UI files")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

from ffnn.web.app import create_app  # noqa: E402
from ffnn.web.registry import Registry  # noqa: E402


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(Registry([])))


def test_the_docs_page_loads_every_asset_from_the_server(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: *["']([^"']+)["']""", page.text)
    urls = [a or b for a, b in urls]
    assert urls and not [u for u in urls if u.startswith(("http:", "https:", "//"))], urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200 and len(response.content) > 100, url
    assert client.get("/openapi.json").json()["openapi"].startswith("3.")


def test_without_the_assets_docs_names_the_openapi_json(monkeypatch):
    from ffnn.web import app

    monkeypatch.setattr(app, "docs_assets", lambda: None)
    response = TestClient(app.create_app(Registry([]))).get("/docs")
    assert response.status_code == 404 and "/openapi.json" in response.json()["error"]
