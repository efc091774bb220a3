"""Every path under PATH appears in the inputs with what happened to it."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

from analyzer.api import load_events
from analyzer.errors import InputError
from analyzer.ingest.discover import discover_all
from tests.conftest import SAMPLE

KUBELET = SAMPLE / "nodes" / "gke-gprd-default-pool-1a2b3c4d-x9k2" / "kubelet.log"


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "bundle"
    (root / "sub").mkdir(parents=True)
    shutil.copy(KUBELET, root / "kubelet.log")
    os.mkfifo(root / "pipe")
    (root / "dangling.log").symlink_to(tmp_path / "gone")
    (root / "loop1").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop1")
    (root / "sublink").symlink_to(root / "sub")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock"))
    yield root
    sock.close()


def test_special_files_and_links_are_listed_with_why(tree):
    files, unread = discover_all([tree])
    assert [f.name for f in files] == ["kubelet.log"]
    why = {os.path.basename(p): w for p, w in unread}
    assert why == {
        "pipe": "not a regular file (a FIFO)",
        "sock": "not a regular file (a socket)",
        "dangling.log": "a link to nothing",
        "loop1": "a link loop",
        "loop2": "a link loop",
        "sublink": "a link to a directory, not followed",
    }


def test_they_appear_in_the_inputs_and_strict_refuses_them(tree):
    events, tallies = load_events([str(tree)])
    by_name = {os.path.basename(t.path): t for t in tallies}
    assert by_name["kubelet.log"].events > 0
    assert by_name["pipe"].format == "not-read" and by_name["pipe"].notes == (
        "not a regular file (a FIFO)",
    )
    assert len(tallies) == 7 and all(t.reconciles for t in tallies)
    with pytest.raises(InputError, match="--strict reads every path"):
        load_events([str(tree)], strict=True)


def test_a_link_to_nothing_given_as_path_is_an_input_error(tmp_path):
    (tmp_path / "dangling.log").symlink_to(tmp_path / "gone")
    with pytest.raises(InputError, match="a link to nothing"):
        discover_all([tmp_path / "dangling.log"])
