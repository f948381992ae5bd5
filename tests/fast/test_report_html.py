"""The HTML report of a small real run: valid pages, existing non-empty images, a figure for every failing
check, the same pages when re-rendered from --json, the same verdicts with and without --report, and the
pytest plugin's report under xdist.

One run covers every verdict the report shows: a real passing spec (keras>HeUniform), a plugin whose
initializer is too wide (fails), the same declared as an expected failure (xfailed), a plugin returning the
wrong shape (its contract fails, dependants are blocked), and a plugin that cannot be imported (load
error).  The plugins live in a throwaway site folder (``common.plugin_site``), registered through dist-info
entry points as a third party's would be; every run is a subprocess that sees them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from common.plugin_site import write_site

pytest.importorskip("matplotlib")
pytest.importorskip("jinja2")

ROOT = Path(__file__).resolve().parents[2]

PLUGINS = {
    "report-wide": ("report_wide", "SPEC = make('Wide', scaled_normal(1.1))"),
    "report-declared": ("report_declared", '''
        XF = ExpectedFailure(reason="draws have std 1.1, the law says 1 (a test double)", versions="keras>=2")
        SPEC = make('Declared', scaled_normal(1.1), expected_failures={"check_variance": XF, "check_law_fit": XF})
        '''),
    "report-shape": ("report_shape", '''
        def bad(seed):
            return lambda shape, dtype=None: scaled_normal(1.0)(seed)((1,) + tuple(shape), dtype)
        SPEC = make('WrongShape', bad)
        '''),
    "report-broken": ("report_broken", "import a_module_that_does_not_exist"),
}
CHECKS = ["check_output_contract", "check_symmetry_breaking", "check_variance", "check_law_fit"]
# HeUniform, not HeNormal: its contract holds on every environment of the matrix (truncated-normal draws ignore the
# dtype on torch in Keras 3.0-3.1, torch-truncated-normal-dtype, which blocks HeNormal's other checks there).
SELECT = "keras>HeUniform,report-*"


def _env(site: Path) -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT), os.environ.get("PYTHONPATH", "")]),
                TF_CPP_MIN_LOG_LEVEL="3")


def _cli(args: list, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "initcheck.cli", *args], capture_output=True, text=True,
                          env=_env(site), cwd=str(site.parent), timeout=900)


def _statuses(path: Path) -> dict:
    return {(o["spec"], o["check"]): o["status"] for o in json.loads(path.read_text())["outcomes"]}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return write_site(tmp_path_factory.mktemp("report"), PLUGINS)


@pytest.fixture(scope="module")
def run(site):
    root = site.parent
    proc = _cli(["check", "--select", SELECT, "--json", str(root / "r.json"), "--report", str(root / "first"),
                 *[a for c in CHECKS for a in ("--check", c)]], site)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # a failure and a load error
    assert "report:" in proc.stdout, proc.stdout + proc.stderr
    return {"root": root, "site": site, "json": root / "r.json", "report": root / "first"}


class _Page(HTMLParser):
    """Tags, links, images, ids, rows and text of a page; records tags that do not nest."""

    VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self.ids: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.rows: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "tr":
            self.rows.append(a)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())


def _parse(path: Path) -> _Page:
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html>")
    page = _Page()
    page.feed(text)
    page.close()
    assert not page.errors, page.errors[:5]
    assert not page.stack, f"unclosed tags: {page.stack}"
    for required in ("html", "head", "title", "body", "main"):
        assert required in page.tags, required
    assert "script" not in page.tags  # no JavaScript
    return page


def _is_image(path: Path) -> bool:
    data = path.read_bytes()
    if path.suffix == ".png":
        return len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"
    root = ET.fromstring(data)
    return root.tag == "{http://www.w3.org/2000/svg}svg" and len(list(root.iter())) > 20


def _rows(page: _Page) -> list[dict]:
    return [r for r in page.rows if r.get("id", "").startswith("row-")]


def test_the_report_changes_no_verdict(run):
    plain = run["root"] / "plain.json"
    proc = _cli(["check", "--select", SELECT, "--json", str(plain), *[a for c in CHECKS for a in ("--check", c)]],
                run["site"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert _statuses(run["json"]) == _statuses(plain)


def test_results_json_records_what_the_report_needs(run):
    data = json.loads(run["json"].read_text())
    by = {(o["spec"].split(">")[-1], o["check"]): o for o in data["outcomes"]}
    assert by[("HeUniform", "check_variance")]["status"] == "passed"
    assert by[("Wide", "check_variance")]["status"] == "failed"
    xf = by[("Declared", "check_variance")]
    assert xf["status"] == "xfailed" and "std 1.1" in xf["expected_failure"]["reason"]
    assert xf["expected_failure"]["versions"] == "keras>=2"
    assert by[("WrongShape", "check_output_contract")]["status"] == "failed"
    assert by[("WrongShape", "check_symmetry_breaking")]["status"] == "blocked"
    assert all(o["family"] in ("structural", "distribution") for o in data["outcomes"])
    assert any("report-broken" in e for e in data["load_errors"])
    engine = data["versions"].get("backend", "tensorflow")  # the backend's own version: tensorflow, jax or torch
    for k in (engine, "keras", "keras_api", "python", "platform"):
        assert data["versions"].get(k), k
    assert data["budget"]["max_assertions"] > 0
    # Figure data is a bounded summary, never the raw sample, and stays out of the failure text.
    fig = by[("Wide", "check_variance")]["evidence"][0]["data"]["figure"]
    assert fig["kind"] == "distribution" and len(fig["hist_density"]) == 64 and len(fig["ecdf"]) == 201
    assert len(json.dumps(fig)) < 20_000
    assert '"hist_density"' not in by[("Wide", "check_variance")]["message"]


def test_index_is_valid_html_with_failures_first(run):
    page = _parse(run["report"] / "index.html")
    rows = _rows(page)
    assert len(rows) == 4  # HeUniform, Wide, Declared, WrongShape
    assert [r.get("class", "") for r in rows][:2] == ["bad", "bad"]  # Wide and WrongShape fail
    assert "HeUniform" in rows[-1]["id"]  # the spec whose checks all passed comes last
    text = " ".join(page.text)
    engine = json.loads(run["json"].read_text())["versions"].get("backend", "tensorflow")
    for word in (engine, "keras", "keras_api", "python", "platform", "Error budget", "How it was spent",
                 "Load errors", "report-broken", "failed", "xfailed", "blocked", "passed", "profile"):
        assert word in text, word
    assert {"load-error-table", "specs", "totals"} <= set(page.ids)
    for row in rows:  # each row links to its spec's page
        assert f'href="{row["id"][4:]}.html"' in (run["report"] / "index.html").read_text()


def test_every_link_exists_and_every_image_is_a_non_empty_image(run):
    report = run["report"]
    pages = sorted(report.glob("*.html"))
    assert len(pages) == 5
    for path in pages:
        page = _parse(path)
        for href in page.links:
            target = href.split("#")[0]
            if target:
                assert (report / target).is_file(), f"{path.name} links to missing {href}"
        for src in page.images:
            assert (report / src).is_file() and _is_image(report / src), f"{path.name}: {src} is no image"


def test_every_failing_check_has_a_figure_and_its_story(run):
    report = run["report"]
    data = json.loads(run["json"].read_text())
    index = _parse(report / "index.html")
    failing = [o for o in data["outcomes"] if o["status"] in ("failed", "error", "xfailed", "xpassed")]
    assert {o["status"] for o in failing} == {"failed", "xfailed"}
    for o in failing:
        page = next(h for h in index.links if h.endswith(".html") and h.startswith(o["spec"].replace(">", "--")))
        html = (report / page).read_text(encoding="utf-8")
        start = html.index(f'id="c-{o["check"]}"')
        card = html[start:html.index("</details>", start)]
        assert '<img src="figures/' in card, f"{o['spec']} {o['check']} has no figure"
        assert "initcheck check --select" in card  # the replay command
        if o["status"] == "xfailed":
            assert "Declared expected failure" in card and "keras&gt;=2" in card and "std 1.1" in card
    wide = (report / next(h for h in index.links if "Wide" in h)).read_text(encoding="utf-8")
    assert "histogram vs the law" in _svg_text(report, wide, "check_variance")


def _svg_text(report: Path, html: str, check: str) -> str:
    start = html.index(f'id="c-{check}"')
    src = html[html.index('<img src="', start) + 10:].split('"')[0]
    return " ".join("".join(t.itertext()) for t in ET.parse(report / src).getroot().iter(
        "{http://www.w3.org/2000/svg}text"))


def test_rerendering_from_json_gives_the_same_pages(run, tmp_path):
    proc = _cli(["report", str(run["json"]), "-o", str(tmp_path / "again")], run["site"])
    assert proc.returncode == 0, proc.stderr
    first, again = run["report"], tmp_path / "again"
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(again).as_posix() for p in again.rglob("*") if p.is_file())
    for name in names:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name


def test_report_command_imports_no_tensorflow_and_says_what_is_wrong(run, tmp_path):
    code = ("import sys; from initcheck.cli import main; "
            f"main(['report', {str(run['json'])!r}, '-o', {str(tmp_path / 'r')!r}]); "
            "print(sorted(m for m in ('tensorflow', 'keras', 'tf_keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(run["site"]))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
    bad = tmp_path / "bad.json"
    bad.write_text('{"nothing": 1}')
    proc = _cli(["report", str(bad), "-o", str(tmp_path / "x")], run["site"])
    assert proc.returncode == 2 and "not an `initcheck check --json` file" in proc.stderr


def _pytest(run, tmp_path: Path, name: str, *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    (tmp_path / "tests").mkdir(exist_ok=True)
    out = tmp_path / name
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "tests"),
                           "--initcheck", "--initcheck-select", "report-*",
                           "--initcheck-checks", "check_output_contract,check_variance",
                           "--initcheck-report", str(out), "--junitxml", str(tmp_path / f"{name}.xml"), *extra],
                          capture_output=True, text=True, env=_env(run["site"]), cwd=str(tmp_path), timeout=900)
    return proc, out


def _page_statuses(report: Path) -> dict:
    """(spec page, check) -> status, read back from the spec pages' check cards."""
    import re

    out = {}
    for page in report.glob("*.html"):
        for status, check in re.findall(r'<details class="check st-(\w+)" id="c-(\w+)"', page.read_text()):
            out[(page.stem, check)] = status
    return out


def test_pytest_plugin_report_in_one_process_and_under_xdist(run, tmp_path):
    pytest.importorskip("xdist")
    one, rep1 = _pytest(run, tmp_path, "one")
    many, rep2 = _pytest(run, tmp_path, "many", "-n", "2")
    for proc in (one, many):
        assert proc.returncode == 1, proc.stdout[-3000:]
        assert "initcheck report:" in proc.stdout
    assert _page_statuses(rep1) == _page_statuses(rep2)
    expected = {(o["spec"].replace(">", "--"), o["check"]): o["status"] for o in json.loads(run["json"].read_text())[
        "outcomes"] if o["spec"].startswith("report-") and o["check"] in ("check_output_contract", "check_variance")}
    assert _page_statuses(rep2) == expected  # the workers' outcomes reached the controller, all of them
    page = _parse(rep2 / "index.html")
    assert len(_rows(page)) == 3 and "report-broken" in " ".join(page.text)
    assert "initcheck_record" not in (tmp_path / "many.xml").read_text()  # no evidence in the JUnit XML


def test_pytest_report_option_needs_the_battery(tmp_path):
    (tmp_path / "tests").mkdir()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path / "tests"),
                           "--initcheck-report", str(tmp_path / "r")], capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 4 and "add --initcheck" in proc.stderr


# ------------------------------------------------------------------ browser

def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no chromium on PATH (apt-get install -y chromium): browser test skipped")


def _chrome(url: str, tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp / 'profile'}", "--window-size=1280,1000", *extra, url]
    return subprocess.run(args, capture_output=True, text=True, timeout=180)


@pytest.mark.browser
def test_pages_render_in_a_headless_browser(run, tmp_path):
    from matplotlib.image import imread

    report = run["report"]
    index = (report / "index.html").as_uri()
    dom = _chrome(index, tmp_path, "--dump-dom").stdout
    assert 'id="specs"' in dom and dom.count('id="row-') == 4
    spec_page = next(p for p in sorted(report.glob("*.html")) if "Wide" in p.name)
    for url, name in ((index, "index.png"), (spec_page.as_uri(), "spec.png")):
        shot = tmp_path / name
        _chrome(url, tmp_path, f"--screenshot={shot}")
        assert shot.is_file() and shot.stat().st_size > 5000, f"no screenshot of {url}"
        pixels = imread(str(shot))[..., :3]
        assert float(pixels.std()) > 0.05, f"blank screenshot of {url}"
        if name == "index.png":
            # The overview table: the failing rows' red edge and the green "passed" pills are on screen.
            red = (pixels[..., 0] > 0.7) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)
            green = (pixels[..., 1] > 0.4) & (pixels[..., 0] < 0.3) & (pixels[..., 2] < 0.3)
            assert red.sum() > 50 and green.sum() > 50
