"""The fast paths of issue #16 keep their behaviour: the CLI's messages, exact CSV
values, the lazily loaded template registry and the precompiled-header cache."""
import logging

from statjr_py.cli import main

TREE_STRING = "{'y': 'normexam', 'D': 'Normal', 'x': 'cons,standlrt'}"
SMALL = "{'burnin': 20, 'iterations': 100, 'nchains': 1, 'diagnostics': False}"


def test_verbose_run_says_outputs_written_once(capsys, caplog, tmp_path):
    # `statjr -v` printed "N outputs written" from the CLI and logged it from Results.save
    with caplog.at_level(logging.INFO):
        assert main(["-v", "run", "1LevelMod", "--dataset", "tutorial", "--invars", TREE_STRING,
                     "--estoptions", SMALL, "--out", str(tmp_path / "o")]) == 0
    printed = capsys.readouterr()
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    said = (printed.out + printed.err).count("outputs written") + sum("outputs written" in m for m in logged)
    assert said == 1
