from pathlib import Path

from groundwork.ingestion.sources import iter_folder, read_with_shared_source


def test_folder_walk_is_recursive_with_include_and_exclude(tmp_path: Path) -> None:
    for name in ["a.md", "sub/b.md", "sub/deep/c.txt", "sub/skip/d.md", ".hidden/e.md", "f.png"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_folder(tmp_path, exclude=["sub/skip/*"])]
    assert found == ["a.md", "sub/b.md", "sub/deep/c.txt"]
    only_md = [p.name for p in iter_folder(tmp_path, include=["*.md"])]
    assert only_md == ["a.md", "b.md", "d.md"]


def test_hugo_shared_source_pages_take_the_shared_body(tmp_path: Path) -> None:
    content = tmp_path / "site" / "content"
    (content / "shared").mkdir(parents=True)
    (content / "product" / "v1").mkdir(parents=True)
    (content / "shared" / "install.md").write_text("---\ntitle: shared\n---\n\n## Install\n\nRun the installer.\n")
    page = content / "product" / "v1" / "install.md"
    page.write_text("---\ntitle: Install v1\nsource: /shared/install.md\n---\n\n<!-- body is in the shared file -->\n")
    own = content / "product" / "v1" / "own.md"
    own.write_text("---\ntitle: Own\nsource: /shared/install.md\n---\n\nThis page has its own text.\n")
    expanded = read_with_shared_source(page, tmp_path).decode()
    assert expanded.startswith("---\ntitle: Install v1\n") and "Run the installer." in expanded
    assert "title: shared" not in expanded
    assert read_with_shared_source(own, tmp_path) == own.read_bytes()
