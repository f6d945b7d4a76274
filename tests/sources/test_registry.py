"""The source registry and `ticker sources`: every source in REGISTRY listed with its class's metadata."""

import json
from datetime import date

import pytest
from click.testing import CliRunner

from ticker import sources
from ticker.cli import cli
from ticker.sources import REGISTRY, BankSource, OfficialSource


def run(*args) -> str:
    result = CliRunner().invoke(cli, ["sources", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def classes() -> dict:
    return {source_id: sources.get(source_id) for source_id in REGISTRY}


def test_the_registry_names_each_class_by_its_own_id():
    found = classes()
    assert list(found) == ["nbrb", "nbrb-monthly", "belarusbank", "mtbank", "belgazprombank", "alfabank", "dabrabyt"]
    for source_id, source in found.items():
        assert source.id == source_id
        assert issubclass(source, {"official": OfficialSource, "bank": BankSource}[source.kind])
        assert isinstance(source.coverage, sources.Coverage) and isinstance(source.schedule, sources.Schedule)
        assert source.name and source.short and source.url.startswith("https://")
    assert [found[s].kind for s in sources.LISTS] == ["official", "official"]
    assert [found[s].kind for s in sources.BANKS] == ["bank"] * 5
    assert set(sources.LISTS) | set(sources.BANKS) == set(REGISTRY) and sources.DEFAULT == "nbrb"


def test_an_unknown_source_is_a_key_error_naming_the_known_ones():
    with pytest.raises(KeyError, match=r"no source 'ecb' \(known: nbrb, nbrb-monthly, belarusbank, mtbank,"
                                       r" belgazprombank, alfabank, dabrabyt\)"):
        sources.get("ecb")


def test_sources_json_lists_every_source_with_its_classes_metadata():
    listed = json.loads(run("--json"))
    assert [s["id"] for s in listed] == list(REGISTRY)
    for entry, source in zip(listed, classes().values()):
        assert entry == {
            "id": source.id, "name": source.name, "kind": source.kind, "url": source.url,
            "since": source.coverage.since.isoformat(), "days": source.coverage.days,
            "history": source.coverage.history, "published": source.schedule.published,
            "poll": source.schedule.poll, "unverified": list(source.unverified),
        }
    by_id = {s["id"]: s for s in listed}
    # What the metadata says of each, in real values: NBRB's daily list since 1991, polled in the
    # afternoons; its monthly list only by the catch-up; the bank has no history.
    assert (by_id["nbrb"]["since"], by_id["nbrb"]["poll"], by_id["nbrb"]["history"]) == (
        "1991-01-01", "*/20 12-16 * * mon-sat", True)
    assert by_id["nbrb-monthly"]["poll"] is None
    assert (by_id["belarusbank"]["kind"], by_id["belarusbank"]["history"]) == ("bank", False)
    assert date.fromisoformat(by_id["belarusbank"]["since"]) == date(2019, 9, 29)  # the recorded answer's day
    assert "Беларусбанк" in by_id["belarusbank"]["name"]  # as UTF-8, not \u escapes


def test_sources_text_has_a_block_for_each_source():
    out = run()
    assert out.endswith("\n") and not out.endswith("\n\n")
    blocks = out[:-1].split("\n\n")  # a blank line between two blocks
    assert len(blocks) == len(REGISTRY)
    for block, source in zip(blocks, classes().values()):
        lines = block.splitlines()
        rates = f"  rates: {source.coverage.days}; since {source.coverage.since}"
        if not source.coverage.history:
            rates += "; no history: asked now only"
        polled = (f"  polled: {source.schedule.poll} (Minsk time) by `ticker run`" if source.schedule.poll
                  else "  polled: by the daily catch-up")
        expected = [f"{source.id}  {source.name} ({source.kind})", f"  {source.url}", rates,
                    f"  published: {source.schedule.published}", polled]
        expected += [f"  unverified: {what}" for what in source.unverified]
        assert lines == expected
    assert blocks[2].splitlines()[2].endswith("; since 2019-09-29; no history: asked now only")
    assert blocks[1].splitlines()[4] == "  polled: by the daily catch-up"
