"""What the four new bank sources share: damaged answers are retried and then refused, and they are
read by the client (bounded, no redirect off the host). Each against its own real local fake."""

import pytest
from support.bank_feeds import FEEDS, XML, feed_server, serve

from ticker import sources
from ticker.errors import BadResponse, DamagedResponse

BANKS = ["mtbank", "belgazprombank", "alfabank", "dabrabyt"]
SHORT = {"mtbank": "MTBank", "belgazprombank": "Belgazprombank", "alfabank": "Alfa-Bank", "dabrabyt": "Dabrabyt"}


def source(bank_id, server, retries=1):
    return sources.get(bank_id)(server.url, timeout=2, retries=retries, backoff=0.01)


def expected_problem(bank_id, fault) -> str:
    json = bank_id == "alfabank"
    return {
        "truncate": "malformed JSON" if json else "malformed XML (",
        "html": "expected JSON, got text/html; charset=utf-8: <html><head><title>502 Bad Gateway" if json
        else "expected XML, got an HTML page (text/html; charset=utf-8): <html><head><title>502 Bad Gateway",
        "cut": "the answer broke off",
    }[fault]


@pytest.mark.parametrize("bank_id", BANKS)
@pytest.mark.parametrize("fault", ["truncate", "html", "cut"])
def test_a_damaged_answer_is_retried_and_the_next_one_read(bank_id, fault):
    with feed_server(bank_id) as server:
        good = source(bank_id, server).rates()
        server.reset_log()
        server.script("/", fault)
        again = source(bank_id, server).rates()
        assert len(server.requests) == 2 and server.faults == [(server.requests[0][0], fault)]
        assert again.rates == good.rates


@pytest.mark.parametrize("bank_id", BANKS)
@pytest.mark.parametrize("fault", ["truncate", "html", "cut"])
def test_an_answer_still_damaged_after_the_retries_is_refused_in_one_line(bank_id, fault):
    with feed_server(bank_id) as server:
        server.script("/", fault, fault, fault)
        with pytest.raises(DamagedResponse, match=f"^{SHORT[bank_id]} sent a damaged response: ") as error:
            source(bank_id, server, retries=2).rates()
        assert expected_problem(bank_id, fault) in str(error.value)
        assert "still after 2 retries; set" in str(error.value) and "\n" not in str(error.value)
        assert len(server.requests) == 3


@pytest.mark.parametrize("bank_id", ["mtbank", "belgazprombank", "dabrabyt"])
@pytest.mark.parametrize("body, content_type, problem", [
    (b"", XML, "the answer is empty (text/xml; charset=utf-8)"),
    (b"   \n", "text/plain", "the answer is empty (text/plain)"),
    (b"<!DOCTYPE html>\n<html><body><p>\xd0\x9f\xd1\x80\xd0\xbe\xd0\xb2\xd0\xb5\xd1\x80\xd0\xba\xd0\xb0<br></body></html>",
     "text/html", "expected XML, got text/html: <!DOCTYPE html> <html><body><p>Проверка<br></body></html>"),
    # An XHTML page is well-formed XML, and still a page, whatever its content type says.
    (b'<html xmlns="http://www.w3.org/1999/xhtml"><body>Captcha</body></html>', XML,
     "expected XML, got an HTML page (text/xml; charset=utf-8)"),
])
def test_an_empty_answer_or_a_page_is_damaged(bank_id, body, content_type, problem):
    with feed_server(bank_id) as server:
        serve(server, bank_id, body, content_type)
        with pytest.raises(DamagedResponse, match=f"^{SHORT[bank_id]} sent a damaged response: ") as error:
            source(bank_id, server).rates()
        assert problem in str(error.value)
        assert len(server.requests) == 2


@pytest.mark.parametrize("bank_id", BANKS)
def test_another_status_is_refused(bank_id):
    with feed_server(bank_id) as server:
        serve(server, bank_id, b"<html>Not Found</html>", "text/html", status=404)
        with pytest.raises(BadResponse, match=rf"^{SHORT[bank_id]} sent a response that cannot be used: .*: HTTP 404$"):
            source(bank_id, server).rates()


@pytest.mark.parametrize("bank_id", BANKS)
def test_no_bank_follows_a_redirect_to_another_host(bank_id):
    path, _, _, _ = FEEDS[bank_id]()
    with feed_server(bank_id) as server:
        server.redirects[path] = server.url.replace("127.0.0.1", "localhost") + "/elsewhere"  # this machine, named otherwise
        with pytest.raises(BadResponse, match=r"refused a redirect to another host \(localhost\); .*"
                                              r" -> http://localhost:\d+/elsewhere$"):
            source(bank_id, server).rates()
