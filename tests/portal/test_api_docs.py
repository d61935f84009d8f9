"""The API documentation works on a closed network: its assets come from this site, not a CDN."""

import re

import pytest


@pytest.mark.django_db
def test_api_docs_load_swagger_ui_from_our_own_static_files(client):
    page = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui" in source for source in sources)
    assert all(not source.startswith(("http://", "https://", "//")) for source in sources), sources
    bundle = next(source for source in sources if source.endswith("swagger-ui-bundle.js"))
    assert client.get(bundle).status_code == 200
