"""The site's own origins (ALLOWED_ORIGINS): who may post, where to redirect, what to link."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

# Characters a URL may carry as they are; everything else (non-ASCII, spaces, quotes) is
# percent-encoded. "%" stays, so an already encoded URL is not encoded twice.
_URL_SAFE = "/:@!$&'()*+,;=?#[]~%"


def origin_allowed(origin: str | None, allowed_origins: tuple[str, ...]) -> bool:
    return bool(origin) and origin.lower() in {o.lower() for o in allowed_origins}  # type: ignore[union-attr]


def url_on_allowed_origin(url: str, allowed_origins: tuple[str, ...]) -> bool:
    """http(s) URL whose scheme://host[:port] is one of the allowed origins, exactly.

    A look-alike such as https://www.example.com@evil.example/ has the netloc
    "www.example.com@evil.example" (user info + another host), which is not allowed.
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 literal)
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc or "\\" in url:
        return False
    return origin_allowed(f"{parts.scheme}://{parts.netloc}", allowed_origins)


def ascii_url(url: str) -> str:
    """The URL with path, query and fragment percent-encoded as UTF-8: safe as a Location.

    For URLs on an allowed origin only (their host is ASCII)."""
    parts = urlsplit(url)
    return urlunsplit(
        (
            parts.scheme,
            parts.netloc,  # an allowed origin: ASCII, as Settings requires
            quote(parts.path, safe=_URL_SAFE),
            quote(parts.query, safe=_URL_SAFE),
            quote(parts.fragment, safe=_URL_SAFE),
        )
    )
