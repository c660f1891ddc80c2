"""Compression for clients that ask (Accept-Encoding): JSON, Atom, CSV, pages and the spec, streamed exports
included; an ETag of a compressed answer works in If-None-Match and If-Match like the plain one."""

import zlib

import brotli
import pytest
from writes_helpers import auth, make_key

try:
    from compression import zstd  # Python 3.14
except ImportError:
    from backports import zstd

DECODERS = {
    "gzip": lambda data: zlib.decompress(data, 16 + zlib.MAX_WBITS),
    "deflate": zlib.decompress,
    "br": brotli.decompress,
    "zstd": zstd.decompress,
}
URLS = [
    "/api/v1/openapi.json",
    "/api/v1/events?limit=50",
    "/api/v1/claims/beijing-fully-aware-of-operation",
    "/api/v1/changes.atom",
    "/api/v1/sources/modern-warfare-newsletter/document?format=html",
    "/api/v1/sources/modern-warfare-newsletter/document?format=txt",
]


# Compression happens after the answer is made, whatever the database: SQLite alone is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.parametrize("url", URLS)
def test_an_answer_is_compressed_when_the_client_asks(seeded, client, url):
    plain = client.get(url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    for accept, chosen in (("gzip", "gzip"), ("gzip, deflate, br", "br"), ("zstd", "zstd")):
        packed = client.get(url, headers={"Accept-Encoding": accept})
        assert packed.status_code == 200
        assert packed.headers["Content-Encoding"] == chosen
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert DECODERS[chosen](packed.get_data()) == plain.get_data()
        assert len(packed.get_data()) < len(plain.get_data())


def test_a_streamed_export_is_compressed_as_it_streams(seeded, client):
    plain = client.get("/api/v1/claims?format=csv")
    for accept, chosen in (("gzip, deflate", "deflate"), ("br", "br"), ("zstd", "zstd")):
        packed = client.get("/api/v1/claims?format=csv", headers={"Accept-Encoding": accept})
        assert packed.is_streamed and "Content-Length" not in packed.headers
        assert packed.headers["Content-Encoding"] == chosen  # gzip cannot be flushed by parts: deflate instead
        assert DECODERS[chosen](packed.get_data()) == plain.get_data()


def test_a_compressed_answers_etag_validates_like_the_plain_one(seeded, client):
    url = "/api/v1/actors/china"
    etag = client.get(url, headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    assert etag.endswith(':gzip"')
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    key = make_key()
    response = client.patch(url, json={"description": "Edited."}, headers=auth(key, **{"If-Match": etag}))
    assert response.status_code == 200, response.get_data(as_text=True)
