"""Flow references stay inside their flows folder and name small regular files only."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr_flows.loader import (
    MAX_FLOW_BYTES,
    FlowError,
    FlowPathError,
    check_file,
    load_flow,
    resolve_flow_path,
)
from tests.support.flows import DEMO_FLOWS, RADIO, FifoWriter


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    root = tmp_path / "flows"
    root.mkdir()
    shutil.copy(DEMO_FLOWS / "radio.yaml", root / "radio.yaml")
    (tmp_path / "outside.yaml").write_text(RADIO, encoding="utf-8")
    return root


@pytest.fixture
def fifo(flows: Path) -> Iterator[Path]:
    writer = FifoWriter(flows / "pipe.yaml")
    yield writer.path
    writer.close()


def test_a_relative_reference_resolves_inside_the_folder(flows: Path) -> None:
    assert resolve_flow_path(flows, "radio.yaml") == (flows / "radio.yaml").resolve()
    assert resolve_flow_path(flows, "./sub/../radio.yaml") == (flows / "radio.yaml").resolve()


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("/etc/passwd", "not an absolute path"),
        ("../outside.yaml", "outside the flows folder"),
        ("../../../../../../etc/passwd", "outside the flows folder"),
        ("/dev/zero", "not an absolute path"),
        ("missing.yaml", "not found"),
        ("radio.txt", "must be a .yaml or .yml file"),
        ("", "empty"),
        ("a\x00.yaml", "NUL"),
    ],
)
def test_bad_references_are_refused_with_the_reason(
    flows: Path, reference: str, reason: str
) -> None:
    with pytest.raises(FlowPathError, match=reason):
        resolve_flow_path(flows, reference)


def test_a_symlink_pointing_outside_the_folder_is_refused(flows: Path) -> None:
    (flows / "escape.yaml").symlink_to(flows.parent / "outside.yaml")
    (flows / "zero.yaml").symlink_to("/dev/zero")
    with pytest.raises(FlowPathError, match="outside the flows folder"):
        resolve_flow_path(flows, "escape.yaml")
    with pytest.raises(FlowPathError, match="outside the flows folder"):
        resolve_flow_path(flows, "zero.yaml")


def test_a_symlink_inside_the_folder_is_followed(flows: Path) -> None:
    (flows / "alias.yaml").symlink_to(flows / "radio.yaml")
    assert resolve_flow_path(flows, "alias.yaml") == (flows / "radio.yaml").resolve()


def test_a_fifo_is_refused_without_being_opened(flows: Path, fifo: Path) -> None:
    with pytest.raises(FlowPathError, match="not a regular file"):
        resolve_flow_path(flows, fifo.name)


def test_loading_a_fifo_fails_at_once_instead_of_waiting_for_a_writer(fifo: Path) -> None:
    with pytest.raises(FlowError, match="not a regular file"):
        load_flow(fifo)
    flow, issues = check_file(fifo)
    assert flow is None and "not a regular file" in str(issues[0])


def test_a_device_is_refused_without_being_read() -> None:
    with pytest.raises(FlowError, match="not a regular file"):
        load_flow(Path("/dev/zero"))
    flow, issues = check_file(Path("/dev/zero"))
    assert flow is None and "not a regular file" in str(issues[0])


def test_a_file_over_the_size_cap_is_refused(flows: Path) -> None:
    big = flows / "big.yaml"
    big.write_text(RADIO + "#" * MAX_FLOW_BYTES, encoding="utf-8")
    with pytest.raises(FlowPathError, match="larger than"):
        resolve_flow_path(flows, "big.yaml")
    with pytest.raises(FlowError, match="larger than"):
        load_flow(big)


def test_a_cached_flow_is_read_anew_when_its_file_changes_even_at_the_same_mtime(
    flows: Path,
) -> None:
    path = flows / "radio.yaml"
    first = load_flow(path)
    assert load_flow(path) is first  # cached: one stat, no parse
    stamp = path.stat()
    # Edited in place, its mtime then set back (an editor, a copy that keeps times): the
    # size tells the change.
    path.write_text(RADIO.replace("id: radio", "id: radio_edited", 1), encoding="utf-8")
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    edited = load_flow(path)
    assert edited.id == "radio_edited"
    # Replaced by another file (a new inode), same size and mtime: read anew too.
    other = flows / "other.yaml"
    other.write_text(RADIO.replace("id: radio", "id: radio_second", 1), encoding="utf-8")
    os.utime(other, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    other.replace(path)
    assert load_flow(path).id == "radio_second"
