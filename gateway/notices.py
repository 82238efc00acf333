"""The privacy notice over HTTP, for anyone: no token (DESIGN.md "Interfaces").

    /notice/{code}             the latest published version (X-Notice-Version: its number), or
                               the notice as it reads now while none is (X-Notice-Version: draft)
    /notice/{code}?version=N   version N as it was published, so the business can show what a
                               customer was told when they registered
    /notice/{code}/versions    the published versions, an HTML page; JSON for Accept: application/json

The language is `?lang=` (en or ja), else the one the client's Accept-Language prefers; the
answer names it in Content-Language. A malformed `lang` or `version` is 400 with a short
message that repeats none of the input; an unknown business or version is 404.
"""

import html
import re
from collections.abc import Iterator
from urllib.parse import quote, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from registry import notice, notice_versions
from registry.db import Database
from registry.errors import NotFound
from registry.notice import LANGUAGES
from registry.notice_versions import MAX_VERSION, Publication

MAX_HEADER = 256  # characters of Accept-Language and Accept considered: a browser sends a few dozen
HASH_SHOWN = 12  # hex digits of a content hash on the versions page; the JSON has it whole
QUALITY = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")  # RFC 9110 §12.4.2
VERSION = re.compile(r"[0-9]{1,10}")
LANGUAGE_NAMES = {"en": "English", "ja": "日本語"}


def notice_routes(database: Database) -> list[Route]:
    """/notice/{code} and /notice/{code}/versions, reading the registry through `database`."""

    async def notice_page(request: Request) -> Response:
        code, lang, number = request.path_params["code"], language(request), version(request)
        async with database.session() as session:
            try:
                if number is not None:
                    kept = await notice_versions.get(session, code, number, lang)
                else:
                    kept = await notice_versions.latest(session, code, lang)
                page = kept.html if kept else await notice.render_notice(session, code, fmt="html", lang=lang)
            except NotFound as error:
                return PlainTextResponse(error.message, status_code=404)
        shown = str(kept.version) if kept else "draft"
        return HTMLResponse(page, headers={"Content-Language": lang, "Vary": "Accept-Language",
                                           "X-Notice-Version": shown})

    async def versions_page(request: Request) -> Response:
        code = request.path_params["code"]
        async with database.session() as session:
            try:
                published = await notice_versions.versions(session, code)
            except NotFound as error:
                return PlainTextResponse(error.message, status_code=404)
        base = request.scope.get("root_path", "") + "/notice/" + quote(code, safe="")
        if _wants_json(request.headers.get("accept")):
            return JSONResponse(_versions_json(code, base, published), headers={"Vary": "Accept"})
        return HTMLResponse(_versions_html(code, base, published),
                            headers={"Content-Language": "en", "Vary": "Accept"})

    return [
        Route("/notice/{code}", notice_page, methods=["GET", "HEAD"], name="notice"),
        Route("/notice/{code}/versions", versions_page, methods=["GET", "HEAD"], name="notice_versions"),
    ]


def language(request: Request) -> str:
    """`?lang=`, else the notice language Accept-Language prefers."""
    asked = request.query_params.get("lang")
    if asked is None:
        return negotiated_language(request.headers.get("accept-language"))
    if asked.lower() not in LANGUAGES:
        raise HTTPException(400, f"lang must be one of {', '.join(LANGUAGES)}")
    return asked.lower()


def version(request: Request) -> int | None:
    """`?version=N`: a published version's number, from 1."""
    asked = request.query_params.get("version")
    if asked is None:
        return None
    if not VERSION.fullmatch(asked) or not 1 <= int(asked) <= MAX_VERSION:
        raise HTTPException(400, f"version must be a whole number from 1 to {MAX_VERSION}")
    return int(asked)


def negotiated_language(header: str | None) -> str:
    """The notice language the client prefers by its Accept-Language (RFC 9110 §12.5.4).

    A language takes the quality of its best range naming it (`ja`, `ja-JP`), or else of `*`;
    the highest quality wins, and of equal ones the range listed first. The default language
    when the client accepts none of them: it gets a notice all the same."""
    ranges = list(_ranges(header or ""))

    def preference(lang: str) -> tuple[float, int]:  # quality, then the earlier range
        named = [(quality, -n) for n, (tag, quality) in enumerate(ranges) if tag.split("-", 1)[0] == lang]
        return max(named or [(quality, -n) for n, (tag, quality) in enumerate(ranges) if tag == "*"],
                   default=(0.0, 0))

    best = max(LANGUAGES, key=preference)  # of equal preferences, the default's
    return best if preference(best)[0] > 0 else LANGUAGES[0]


def _ranges(header: str) -> Iterator[tuple[str, float]]:
    """The well-formed language ranges of the header's first MAX_HEADER characters, with their
    quality; a range cut off at that bound is left out."""
    if len(header) > MAX_HEADER:
        header = header[:MAX_HEADER].rpartition(",")[0]
    for part in header.split(","):
        tag, _, parameters = part.partition(";")
        tag = tag.strip().lower()
        quality: float | None = 1.0
        for parameter in parameters.split(";") if parameters else ():
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                quality = float(value) if QUALITY.fullmatch(value) else None
        if tag and quality is not None:
            yield tag, quality


def _wants_json(accept: str | None) -> bool:
    return accept is not None and "application/json" in accept[:MAX_HEADER].lower()


def _href(base: str, number: int, lang: str) -> str:
    return f"{base}?{urlencode({'version': number, 'lang': lang})}"


def _versions_json(code: str, base: str, published: list[Publication]) -> dict:
    return {"businessCode": code, "versions": [
        {"version": p.version, "publishedOn": p.published_on.isoformat(), "texts": [
            {"lang": lang, "contentHash": digest, "href": _href(base, p.version, lang)}
            for lang, digest in p.content_hashes.items()
        ]}
        for p in published
    ]}


def _versions_html(code: str, base: str, published: list[Publication]) -> str:
    title = f"Published versions of the privacy notice of {code}"
    rows = [
        "<tr>" + f"<td>{p.version}</td><td>{p.published_on.isoformat()}</td>" + "".join(
            f'<td><a href="{html.escape(_href(base, p.version, lang))}" hreflang="{lang}">'
            f"{LANGUAGE_NAMES.get(lang, lang)}</a> <code title=\"{digest}\">{digest[:HASH_SHOWN]}</code></td>"
            for lang, digest in p.content_hashes.items()
        ) + "</tr>"
        for p in published
    ]
    body = ([f"<table><thead><tr><th>Version</th><th>Published on</th>"
             f"<th colspan=\"{len(LANGUAGES)}\">Text (SHA-256 of its Markdown)</th></tr></thead>",
             "<tbody>", *rows, "</tbody></table>"] if published else
            [f'<p>Not published yet: <a href="{html.escape(base)}">the notice</a> shows it as it reads now.</p>'])
    return "\n".join([
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>", "</head>", "<body>", f"<h1>{html.escape(title)}</h1>",
        *body, f'<p><a href="{html.escape(base)}">The latest version</a></p>', "</body>", "</html>",
    ]) + "\n"
