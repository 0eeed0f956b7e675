"""`manage.py site build` and the rebuild on `news publish`/`unpublish`, against moto (the dev
stage's data stack from infra/resources.json, seeded). The browser checks of the built pages
are in tests/e2e/test_static_site.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

import admin.site_build
from admin.provision import deploy_stack, verify_sender
from admin.stages import stage_environment
from manage import main
from tests.conftest import REGION

STAGE = "dev"
ENV = stage_environment(STAGE)
API = "https://abc123.execute-api.eu-central-1.amazonaws.com/api"
SLUGS = [
    "catl-signs-agreement-to-build-manufacturing-base-in-shanghai",
    "how-to-adjust-the-car-mirror",
    "checking-brake-pads-for-wear",
    "choosing-wiper-blades",
    "engine-air-filter-basics",
    "new-website-online",
]
ARTICLE = """---
slug: new-brake-line
title: A new brake line
category: company-news
date: 2031-07-15
---
Brake lines for every car.
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """admin.site_build's project folder (build/site/STAGE, .chalice/deployed/) in tmp_path."""
    monkeypatch.setattr(admin.site_build, "ROOT", tmp_path)
    return tmp_path


@pytest.fixture
def seeded(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    with mock_aws():
        deploy_stack(boto3.client("cloudformation", region_name=REGION), STAGE)
        verify_sender(boto3.client("sesv2", region_name=REGION), ENV["SENDER_EMAIL"])
        assert main(["seed", "--stage", STAGE]) == 0
        capsys.readouterr()
        yield


def deployed(project: Path) -> None:
    """What `chalice deploy` leaves: the stage's Rest API URL."""
    path = project / ".chalice" / "deployed" / f"{STAGE}.json"
    path.parent.mkdir(parents=True)
    resources = [{"resource_type": "rest_api", "rest_api_url": API + "/"}]
    path.write_text(json.dumps({"resources": resources}), encoding="utf-8")


def test_site_build_writes_every_page_in_both_languages(
    seeded: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["site", "build", "--stage", STAGE, "--out", str(out), "--api-url", API])

    assert code == 0
    assert capsys.readouterr().out.startswith("built 28 pages into ")
    site = ENV["ALLOWED_ORIGINS"].split(",")[0]
    for prefix in ("", "zh/"):
        for page in ("index.html", "news/page/2.html", "contact.html", "thanks.html", "404.html"):
            assert (out / prefix / page).is_file(), prefix + page
        for slug in SLUGS:
            assert (out / prefix / "news" / f"{slug}.html").is_file()
        for category in ("company-news", "industry-new", "car-care"):
            assert (out / prefix / "news" / "category" / f"{category}.html").is_file()
    contact = (out / "zh" / "contact.html").read_text(encoding="utf-8")
    assert f'action="{API}/inquiries"' in contact
    assert f'name="redirect" value="{site}/zh/thanks.html"' in contact
    assert 'name="locale" value="zh"' in contact
    strings = re.search(
        r'<script type="application/json" id="vigor-strings">(.*?)</script>', contact, re.S
    )
    assert strings is not None and json.loads(strings.group(1))["items.add"] == "添加配件"
    assert 'name="items[0].part_number"' in contact and 'name="product"' in contact
    for name in ("utm_source", "gclid", "referrer", "landing_page"):
        assert f'<input type="hidden" name="{name}" value="" data-source="{name}">' in contact
    assert f"Sitemap: {site}/sitemap.xml" in (out / "robots.txt").read_text(encoding="utf-8")
    assert json.dumps(API) in (out / "config.js").read_text(encoding="utf-8")
    assert (out / "assets" / "site.css").is_file()


def test_site_build_names_the_address_it_cannot_find(
    seeded: None, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["site", "build", "--stage", STAGE])  # never deployed: no Rest API URL

    assert code == 2
    assert "error: the site's address is not known: add --api-url" in capsys.readouterr().err
    assert not (project / "build").exists()


def test_news_publish_and_unpublish_rebuild_the_stage_site(
    seeded: None, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed(project)
    article = tmp_path / "new-brake-line.md"
    article.write_text(ARTICLE, encoding="utf-8")
    built = project / "build" / "site" / STAGE

    assert main(["news", "publish", str(article), "--stage", STAGE]) == 0

    assert f"rebuilt the static site: 30 pages in {built}" in capsys.readouterr().out
    page = (built / "zh" / "news" / "new-brake-line.html").read_text(encoding="utf-8")
    assert '<h1 id="article-title" lang="en">A new brake line</h1>' in page
    newest = (built / "index.html").read_text(encoding="utf-8")
    assert newest.index("A new brake line") < newest.index("CATL signs agreement")

    assert main(["news", "unpublish", "new-brake-line", "--stage", STAGE]) == 0

    assert "rebuilt the static site: 28 pages" in capsys.readouterr().out
    assert not (built / "news" / "new-brake-line.html").exists()
    assert "new-brake-line" not in (built / "sitemap.xml").read_text(encoding="utf-8")


def test_news_publish_says_when_the_site_could_not_be_rebuilt(
    seeded: None, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "new-brake-line.md"
    article.write_text(ARTICLE, encoding="utf-8")

    assert main(["news", "publish", str(article), "--stage", STAGE]) == 0  # the news is live

    err = capsys.readouterr().err
    assert "the static site was NOT rebuilt: the site's address is not known" in err
    assert f"run: python manage.py site build --stage {STAGE}" in err


def test_every_string_the_scripts_show_is_in_both_languages() -> None:
    """site/strings.json is the one source: the build's labels and the scripts' messages."""
    strings = admin.site_build.load_strings()
    assert set(strings) == {"en", "zh"}
    assert set(strings["en"]) == set(strings["zh"])
    scripts = "".join(
        path.read_text(encoding="utf-8") for path in (admin.site_build.ASSETS_DIR).glob("*.js")
    )
    used = set(re.findall(r'\bt\("([\w.-]+)"', scripts))
    assert used and used <= set(strings["en"]), used - set(strings["en"])
    assert all(key.startswith(admin.site_build.SCRIPT_STRINGS) for key in used)
