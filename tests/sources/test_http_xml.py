"""The sources' HTTP client reading XML, its bound on an answer's size and its redirects, against real
local servers (HTTP and HTTPS)."""

import gzip

import pytest
from support.bank_feeds import XML, FakeBank, tls
from support.nbrb_server import JSON

from ticker.errors import BadResponse, DamagedResponse
from ticker.sources import http

HINT = "set test.base_url"


@pytest.fixture
def server():
    with FakeBank() as server:
        yield server


def client(server, retries=1, **limits):
    return http.Client("Test", server.url, 2, retries, 0.01, HINT, **limits)


def test_xml_is_read_as_the_document_declares_it(server):
    text = '<?xml version="1.0" encoding="windows-1251"?><a name="Минск">курс</a>'
    server.set_verbatim("/a", {}, text.encode("cp1251"), 200, "text/xml")
    url, root = client(server).xml("/a")
    assert (url, root.tag, root.get("name"), root.text) == (f"{server.url}/a", "a", "Минск", "курс")


@pytest.mark.parametrize("body, content_type", [
    ('<a name="Минск"/>'.encode("cp1251"), "text/xml; charset=windows-1251"),  # the header alone says it
    ('<a name="Минск"/>'.encode("cp1251"), "text/xml; charset=\"Windows-1251\""),
    (b"\xef\xbb\xbf" + '<a name="Минск"/>'.encode(), "text/xml; charset=windows-1251"),  # a BOM beats the header
    ('<?xml version="1.0" encoding="windows-1251"?><a name="Минск"/>'.encode("cp1251"), "text/html; charset=UTF-8"),
    ('<a name="Минск"/>'.encode(), "application/octet-stream"),  # no charset: UTF-8
])
def test_the_encoding_comes_from_the_bom_the_declaration_the_header_or_utf8(server, body, content_type):
    server.set_verbatim("/a", {}, body, 200, content_type)
    assert client(server).xml("/a")[1].get("name") == "Минск"


def test_a_body_not_in_the_charset_its_header_names_is_damaged(server):
    server.set_verbatim("/a", {}, '<a name="Минск"/>'.encode("cp1251"), 200, "text/xml; charset=utf-8")
    with pytest.raises(DamagedResponse, match=r"^Test sent a damaged response: .*/a: the answer is not utf-8 as its"
                                              r" text/xml; charset=utf-8 says: .*still after 1 retry; set test"):
        client(server).xml("/a")


def test_an_unknown_charset_is_refused(server):
    server.set_verbatim("/a", {}, b"<a/>", 200, "text/xml; charset=klingon")
    with pytest.raises(BadResponse, match=r"unknown charset 'klingon' \(text/xml; charset=klingon\)$"):
        client(server).xml("/a")


@pytest.mark.parametrize("body", [
    # Entity expansion (a "billion laughs" in small) and an external entity: refused unread, not retried.
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b"<rates>&b;</rates>",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rates>&x;</rates>',
])
def test_entities_are_refused_never_expanded(server, body):
    server.set_verbatim("/a", {}, body, 200, XML)
    with pytest.raises(BadResponse, match=r"^Test sent a response that cannot be used: .*/a: the XML declares entities"
                                          r" or refers to external ones \(EntitiesForbidden\); refused unread$"):
        client(server).xml("/a")
    assert len(server.requests) == 1


def test_an_answer_over_the_bound_is_refused_as_declared_or_as_read(server):
    server.set_verbatim("/big", {}, b"<a>" + b"x" * 1000 + b"</a>", 200, XML)
    with pytest.raises(DamagedResponse, match=r"/big: the answer is 1,007 bytes, over the limit of 1,000, still after"
                                              r" 1 retry; set test\.base_url$"):
        client(server, max_bytes=1000).xml("/big")
    # A small body that inflates past the bound (Content-Length is the compressed size).
    bomb = gzip.compress(b"<a>" + b" " * 100_000 + b"</a>")
    assert len(bomb) < 1000
    server.script("/bomb", *[(200, {"Content-Type": XML, "Content-Encoding": "gzip"}, bomb)] * 2)
    with pytest.raises(DamagedResponse, match=r"/bomb: the answer is over the limit of 1,000 bytes"):
        client(server, max_bytes=1000).xml("/bomb")
    # Under the bound the same body is read whole.
    server.script("/bomb", (200, {"Content-Type": XML, "Content-Encoding": "gzip"}, bomb))
    assert len(client(server).xml("/bomb")[1].text) == 100_000


def test_a_redirect_on_its_host_is_followed(server):
    server.set_verbatim("/new", {}, b"<a/>", 200, XML)
    server.redirects["/old"] = "/new"
    server.redirects["/older"] = "{url}/old"
    assert client(server).xml("/older")[0] == f"{server.url}/new"
    assert [path for path, _ in server.requests] == ["/older", "/old", "/new"]


def test_another_host_is_refused_unless_redirect_hosts_names_it(server):
    server.set_verbatim("/new", {}, b'{"ok": true}', 200, JSON)
    elsewhere = server.url.replace("127.0.0.1", "localhost") + "/new"
    server.redirects["/old"] = elsewhere
    with pytest.raises(BadResponse, match=rf"^Test sent a response that cannot be used: refused a redirect to another"
                                          rf" host \(localhost\); name it in the source's redirect_hosts in the config"
                                          rf" if it is the source's own: {server.url}/old -> {elsewhere}$"):
        client(server).json("/old")
    assert server.requests == [("/old", {})]
    assert client(server, redirect_hosts=["localhost"]).json("/old") == (elsewhere, {"ok": True})


def test_over_https_a_redirect_on_the_host_is_followed_and_one_to_http_refused(monkeypatch):
    context, authority = tls()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", authority)
    with FakeBank({"/old": "{url}/new", "/down": "http://{host}/new"}).start(tls=context) as server:
        server.set_verbatim("/new", {}, b"<a/>", 200, XML)
        assert client(server).xml("/old")[0] == f"{server.url}/new"
        with pytest.raises(BadResponse, match=r"refused a redirect from https to http: https://127\.0\.0\.1:\d+/down ->"
                                              r" http://127\.0\.0\.1:\d+/new$"):
            client(server).xml("/down")
        assert [path for path, _ in server.requests] == ["/old", "/new", "/down"]
