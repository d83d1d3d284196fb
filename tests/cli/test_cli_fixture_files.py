"""`tariff test` on fixture files that are not fixtures: each is a finding
naming the file, never a traceback."""
from __future__ import annotations

from tariff.cli.main import main


def test_a_fixture_file_that_is_not_text_is_a_finding_not_a_traceback(tmp_path, capsys):
    """`tariff test` on a folder holding a binary file, YAML nested too deep and a
    Python tag: each is a BROKEN line naming the file, the command ends (exit 1)."""
    from pathlib import Path
    policies = str(Path(__file__).resolve().parents[2] / "policies")
    (tmp_path / "bin.yaml").write_bytes(b"cases:\n  - \xd0\x00\xff\n")
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    (tmp_path / "evil.yaml").write_text('cases: !!python/object/apply:os.system ["echo PWNED"]\n')
    assert main(["test", "--policies", policies, str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "bin.yaml:1:1: error: encoding: not UTF-8" in out and "deep.yaml:1:1: error: too_deep" in out
    assert "evil.yaml:1:8: error: unsupported_tag" in out and "PWNED" not in out
