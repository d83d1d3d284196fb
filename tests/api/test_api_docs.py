"""GET /docs: the API reference (Swagger UI over /openapi.json), served from
the package with nothing loaded from the internet."""
from __future__ import annotations

import re

from tariff.api.docs import FILES


def test_the_reference_page_loads_its_files_from_this_server(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/docs/assets/") for s in sources), sources
    assert '"/openapi.json"' in html
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.data) > 1000, source


def test_every_file_it_serves_is_in_the_bundle_and_nothing_else_is(client):
    for name in FILES:
        assert client.get(f"/docs/assets/{name}").status_code == 200, name
    for name in ("index.html", "../__init__.py", "swagger-ui.js.map", "%2e%2e%2fsetup.cfg"):
        assert client.get(f"/docs/assets/{name}").status_code == 404, name


def test_the_asset_route_is_not_an_api_operation(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert not [p for p in paths if p.startswith("/docs")]
