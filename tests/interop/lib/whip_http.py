"""Shared helpers for the Python interop clients (aiortc, GStreamer): WHIP/WHEP over urllib
(RFC 9725 §4.1/§4.2) and JSON-lines events on stdout that the Node tests parse."""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


def emit(event, **fields):
    """One JSON object per line on stdout: {"event": ..., ...}."""
    print(json.dumps({"event": event, **fields}), flush=True)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# An access token for WHIP/WHEP POSTs (README, "Access control"); set by the clients' --token.
_token = None


def set_token(token):
    global _token
    _token = token or None


def _same_origin(a, b):
    pa, pb = urllib.parse.urlsplit(a), urllib.parse.urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


class WhipError(Exception):
    def __init__(self, status, body, headers):
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body
        self.headers = headers


def endpoint(server_url, kind, stream, query=""):
    url = urllib.parse.urljoin(server_url, f"/{kind}/{urllib.parse.quote(stream, safe='')}")
    return f"{url}?{query}" if query else url


def post_offer(server_url, kind, stream, offer_sdp, timeout=10, max_redirects=3, query=""):
    """POST the SDP offer; returns (absolute session URL, etag, answer SDP). Raises WhipError on non-201.
    Follows 307/308 redirects (a broker placing the session, RFC 9725 §4.5) by repeating the POST;
    like a browser (Fetch, "HTTP-redirect fetch"), Authorization goes only to the first origin."""
    url = endpoint(server_url, kind, stream, query)
    first = url
    for _ in range(max_redirects + 1):
        headers = {"Content-Type": "application/sdp"}
        if _token and _same_origin(url, first):
            headers["Authorization"] = f"Bearer {_token}"
        req = urllib.request.Request(url, data=offer_sdp.encode(), method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                status, body, headers = res.status, res.read().decode(), res.headers
        except urllib.error.HTTPError as err:
            if err.code in (307, 308) and err.headers.get("Location"):
                url = urllib.parse.urljoin(url, err.headers["Location"])
                continue
            raise WhipError(err.code, err.read().decode(errors="replace"), err.headers) from None
        if status != 201:
            raise WhipError(status, body, headers)
        location = headers.get("Location")
        if not location:
            raise WhipError(status, "201 without Location header", headers)
        return urllib.parse.urljoin(url, location), headers.get("ETag"), body
    raise WhipError(310, f"more than {max_redirects} redirects", {})


def post_offer_retrying(server_url, kind, stream, offer_sdp, deadline_s, clock, query=""):
    """Like post_offer, but retries while the server says 409 (stream not live yet, RFC 9725 WHEP)
    honouring Retry-After (capped at 1 s) until clock() passes deadline_s."""
    import time
    while True:
        try:
            return post_offer(server_url, kind, stream, offer_sdp, query=query)
        except WhipError as err:
            if err.status not in (404, 409) or clock() >= deadline_s:
                raise
            retry = err.headers.get("Retry-After") if err.headers else None
            try:
                wait = min(float(retry), 1.0) if retry else 0.5
            except ValueError:
                wait = 0.5
            log(f"{kind} {stream}: {err.status}, retrying in {wait}s")
            time.sleep(wait)


def delete_session(location, timeout=5):
    """DELETE the session URL; returns the HTTP status (or None on a network error)."""
    req = urllib.request.Request(location, method="DELETE")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None
