"""``assay evaluate-many``: every release evaluated and recorded, a failing one reported while
the others go on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assay import cli
from assay.storage.history import History


def manifest(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_fleet_with_a_missing_input(
    example_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = tmp_path / "router-1.1"
    shutil.copytree(example_tree, newer)
    httpd = newer / "src" / "httpd.c"
    httpd.write_text(httpd.read_text() + "\nvoid g(char *d, char *s) { strcat(d, s); }\n")
    listed = manifest(
        tmp_path / "fleet.toml",
        f"""
[defaults]
product = "router"

[[release]]
release = "1.0"
input = "{example_tree.name}"

[[release]]
product = "camera"
release = "2.0"
input = "no-such-release.tar.gz"

[[release]]
release = "1.1"
input = "router-1.1"
""",
    )
    db = tmp_path / "history.sqlite"
    out = tmp_path / "out"
    code = cli.main(["evaluate-many", str(listed), "-o", str(out), "--db", str(db), "-j", "1",
                     "--cache-dir", str(tmp_path / "cache")])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "no-such-release.tar.gz does not exist" in err
    first = json.loads((out / "router" / "1.0" / "evaluation.json").read_text())
    second = json.loads((out / "router" / "1.1" / "evaluation.json").read_text())
    assert not (out / "camera").exists()
    with History(db) as history:
        rows = history.releases("router")
        assert history.products() == ["router"]
        assert all(row.verdict for row in rows)
    assert [r.release for r in rows] == ["1.0", "1.1"]
    counted = [sum(doc["summary"]["findings"]["unsafe-calls"].values()) for doc in (first, second)]
    assert counted[1] == counted[0] + 1


def test_all_ok_exits_zero(example_tree: Path, tmp_path: Path) -> None:
    listed = manifest(
        tmp_path / "one.toml",
        f'[[release]]\nproduct = "router"\nrelease = "1.0"\ninput = "{example_tree.name}"\n',
    )
    argv = ["evaluate-many", str(listed), "-o", str(tmp_path / "out"), "-q", "--no-cache"]
    assert cli.main([*argv, "--db", str(tmp_path / "h.sqlite"), "-j", "1"]) == 0
    with History(tmp_path / "h.sqlite") as history:
        assert [r.release for r in history.releases("router")] == ["1.0"]


@pytest.mark.parametrize(
    "text",
    [
        '[[release]]\nproduct = "p"\nrelease = "1"\ninput = "x"\nflavour = "mild"\n',
        '[[release]]\nproduct = "p"\nrelease = "../up"\ninput = "x"\n',
        '[[release]]\nproduct = "p"\ninput = "x"\n',
        "[defaults]\n",
    ],
)
def test_bad_manifest_stops_before_running(tmp_path: Path, text: str) -> None:
    listed = manifest(tmp_path / "bad.toml", text)
    argv = ["evaluate-many", str(listed), "-o", str(tmp_path / "out"), "-q"]
    assert cli.main([*argv, "--db", str(tmp_path / "h.sqlite")]) == 2
    assert not (tmp_path / "out").exists()
