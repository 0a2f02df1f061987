from pathlib import Path

from groundwork.ingestion.sources import iter_folder


def test_folder_walk_is_recursive_with_include_and_exclude(tmp_path: Path) -> None:
    for name in ["a.md", "sub/b.md", "sub/deep/c.txt", "sub/skip/d.md", ".hidden/e.md", "f.png"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_folder(tmp_path, exclude=["sub/skip/*"])]
    assert found == ["a.md", "sub/b.md", "sub/deep/c.txt"]
    only_md = [p.name for p in iter_folder(tmp_path, include=["*.md"])]
    assert only_md == ["a.md", "b.md", "d.md"]
