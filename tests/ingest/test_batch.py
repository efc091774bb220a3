"""Small files alike read as one batch (``ingest.batch``) give exactly what reading each
alone gives: the same events, the same tallies (lines, reasons, example line numbers,
notes) in input order. Files a batch cannot take are read alone beside it."""

from __future__ import annotations

import gzip

import pytest

from analyzer.api import load_events, load_reduced
from analyzer.ingest import batch
from tests.conftest import FIXTURES


def _lines(path):
    return (FIXTURES / path).read_text().splitlines()


KLOG = _lines("kubelet_klog/raw.log")  # real kubelet lines
NGINX = _lines("ingress_nginx/controller.log")  # real access and error lines, mixed
WORKHORSE = _lines("workhorse_text/current.log")
PUMA = _lines("puma_json/puma_stdout.log")


@pytest.fixture
def bundle(tmp_path):
    """A log collector's bundle: many small files of a few lines, with damage."""
    root = tmp_path / "bundle"
    for i in range(24):
        d = root / f"node-{i % 3}" / f"pod-{i}"
        d.mkdir(parents=True)
        klog = KLOG[i % len(KLOG) :] + KLOG[: i % 3]
        if i % 5 == 0:
            klog.insert(1, "I0516 18:34:49.8 truncated klog line")
        if i % 7 == 0:
            klog.insert(2, "")
        ending = "\r\n" if i % 4 == 0 else "\n"
        (d / "kubelet.log").write_text(ending.join(klog) + ("" if i % 6 == 0 else ending))
        (d / "ingress.log").write_text("\n".join(NGINX[i % 3 :]) + "\n")
        (d / "workhorse.log").write_text("\n".join(WORKHORSE) + "\n")
        (d / "puma.log").write_text("\n".join(PUMA[: 1 + i % len(PUMA)]) + "\n")
    (root / "big.log.gz").write_bytes(gzip.compress(("\n".join(KLOG) + "\n").encode()))
    (root / "odd.txt").write_text("not a log at all\n")
    return root


def _alone(monkeypatch, read):
    with monkeypatch.context() as m:
        m.setattr(batch, "SMALL_FILE", 0)  # no file is small: each read alone
        return read()


@pytest.mark.parametrize("year", [2022, None])
@pytest.mark.parametrize("load", [load_events, load_reduced])
def test_a_batch_gives_what_each_file_alone_gives(bundle, monkeypatch, year, load):
    events, tallies = load([bundle], year=year)
    alone_events, alone_tallies = _alone(monkeypatch, lambda: load([bundle], year=year))
    assert [t.path for t in tallies] == [t.path for t in alone_tallies]
    assert tallies == alone_tallies
    if load is load_events:
        assert events.equals(alone_events)
    else:  # a batch keeps rows whole that a lone file counts per second: same lines
        assert events["count"].sum() == alone_events["count"].sum()
        failures = events.filter(events["status"] >= 500).drop("count", "last_ts", "last_line")
        assert failures.sort("file", "line").equals(
            alone_events.filter(alone_events["status"] >= 500)
            .drop("count", "last_ts", "last_line")
            .sort("file", "line")
        )


def test_small_files_alike_are_batched_and_the_rest_read_alone(bundle):
    files = sorted(p for p in bundle.rglob("*") if p.is_file())
    batches, alone = batch.read_small_files(files)
    batched = {f.path for b in batches for f in b.files}
    assert len(batched) == 96
    assert {p.name for p in alone} == {"big.log.gz", "odd.txt"}
    assert {b.parsed.format for b in batches} >= {"kubelet_klog", "ingress_nginx"}


def test_fewer_than_the_least_are_read_alone(tmp_path):
    for i in range(3):
        (tmp_path / f"{i}.log").write_text(KLOG[i] + "\n")
    batches, alone = batch.read_small_files(sorted(tmp_path.iterdir()))
    assert batches == [] and len(alone) == 3


def test_real_public_logs_batched_give_what_each_alone_gives(tmp_path, monkeypatch):
    """The real-logs corpus (tests/corpus, public sources), each small file copied 8 times
    into a bundle: the batches (ALB, HAProxy, ingress-nginx, Istio, kubelet klog and JSON,
    Traefik, ...) give exactly the events and tallies of reading each file alone."""
    import shutil

    from tests.conftest import ROOT

    corpus = ROOT / "tests" / "corpus"
    files = [
        p
        for p in corpus.rglob("*")
        if p.is_file() and p.suffix not in (".md", ".toml") and "LICENSES" not in p.parts
    ]
    alike, _ = batch.read_small_files(sorted(files), least=1)  # the ones a batch can take
    files = [f.path for b in alike for f in b.files]
    for i in range(8):
        for p in files:
            target = tmp_path / f"copy{i}" / p.relative_to(corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(p, target)
    copies = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    batches, _ = batch.read_small_files(copies)
    assert len({b.parsed.format for b in batches}) >= 6
    events, tallies = load_events([tmp_path])
    alone_events, alone_tallies = _alone(monkeypatch, lambda: load_events([tmp_path]))
    assert tallies == alone_tallies
    assert events.equals(alone_events)
