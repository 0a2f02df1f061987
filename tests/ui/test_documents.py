"""Uploading documents in the browser (drag and drop, or the file picker) and watching each one's ingestion
until it is indexed — or failed, with the reason."""

from __future__ import annotations

from playwright.sync_api import JSHandle, Page, expect

from .harness import Site, ask, pick_datastores, sign_in

GUIDE = b"""# Incident handbook

## Paging

The on-call engineer acknowledges a page within 5 minutes and opens an incident channel named inc-followed-by-date.
"""


def dropped(page: Page, files: list[tuple[str, str, str]]) -> JSHandle:
    """A DataTransfer holding the files (name, text, type), as a drag from the desktop would carry them."""
    return page.evaluate_handle(
        """(files) => {
          const transfer = new DataTransfer();
          for (const [name, text, type] of files) transfer.items.add(new File([text], name, { type }));
          return transfer;
        }""",
        files,
    )


def open_documents(page: Page, datastore: str) -> None:
    page.get_by_role("button", name="Documents").click()
    dialog = page.get_by_role("dialog", name="Documents")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Datastore", exact=True).select_option(label=datastore)


def test_dropped_files_are_followed_until_indexed_or_failed_with_the_reason(page: Page, site: Site) -> None:
    site.api.post("/v1/datastores", json={"name": "handbook"})
    sign_in(page, site.admin_key)
    open_documents(page, "handbook")
    dialog = page.get_by_role("dialog", name="Documents")
    zone = dialog.locator(".dropzone")
    zone.dispatch_event("dragenter", {"dataTransfer": dropped(page, [])})
    expect(zone).to_have_class("dropzone dragging")
    files = [
        ("incident-handbook.md", GUIDE.decode(), "text/markdown"),
        ("scan.pdf", "%PDF-1.4\nthis is not really a PDF\n%%EOF", "application/pdf"),
        ("tool.exe", "MZ\x00\x01binary", "application/x-msdownload"),
    ]
    with page.expect_request("**/v1/jobs/*/documents"):
        zone.dispatch_event("drop", {"dataTransfer": dropped(page, files)})
    rows = dialog.locator(".upload")
    expect(rows).to_have_count(3)
    guide = rows.filter(has_text="incident-handbook.md")
    expect(guide).to_have_attribute("data-status", "indexed")
    expect(guide.locator(".upload-status")).to_have_text("Indexed")
    expect(guide.locator("progress")).to_have_attribute("value", "1")
    scan = rows.filter(has_text="scan.pdf")
    expect(scan).to_have_attribute("data-status", "failed")
    expect(scan.locator(".reason")).to_contain_text("corrupt_document")
    tool = rows.filter(has_text="tool.exe")
    expect(tool).to_have_attribute("data-status", "failed")
    expect(tool.locator(".reason")).to_contain_text("unsupported_format")
    listed = dialog.locator(".document-list tbody tr")
    expect(listed).to_have_count(2)
    expect(listed.filter(has_text="Incident handbook")).to_contain_text("Indexed")
    expect(listed.filter(has_text="scan.pdf")).to_contain_text("Failed")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    pick_datastores(page, site, {"handbook"})
    ask(page, "How quickly must the on-call engineer acknowledge a page?")
    expect(page.locator(".message.assistant .answer-body")).to_contain_text("within 5 minutes")


def test_the_file_picker_uploads_too_and_a_datastore_can_be_created(page: Page, site: Site) -> None:
    sign_in(page, site.admin_key)
    page.get_by_role("button", name="Documents").click()
    dialog = page.get_by_role("dialog", name="Documents")
    dialog.get_by_label("New datastore").fill("picked")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_label("Datastore", exact=True).locator("option:checked")).to_have_text("picked")
    dialog.get_by_label("Only I may read these documents").check()
    dialog.locator("#upload-input").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"Deploys happen on Tuesdays."}]
    )
    expect(dialog.locator(".upload")).to_have_attribute("data-status", "indexed")
    documents = site.api.get("/v1/datastores/picked/documents").json()["items"]
    assert [d["acl"]["users"] for d in documents] == [["admin"]]
