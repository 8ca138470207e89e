"""Server-side paths are confined to the Jupyter server's root directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fate_nb.flow.errors import ParameterError, PathNotAllowed
from fate_nb.flow.paths import confine


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A server root holding one file, with a sibling folder outside it."""
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "data" / "guest.csv").write_text("id,x0\n1,0.5\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text("id\n1\n")
    return root


def test_relative_path_inside_the_root_resolves_under_it(root: Path) -> None:
    assert confine(root, "data/guest.csv", argument="file") == root.resolve() / "data/guest.csv"


def test_absolute_path_inside_the_root_is_accepted(root: Path) -> None:
    target = root.resolve() / "data" / "guest.csv"
    assert confine(root, str(target), argument="file") == target


def test_path_that_does_not_exist_yet_inside_the_root_is_accepted(root: Path) -> None:
    result = confine(root, "exports/new.csv", argument="output_path")
    assert result == root.resolve() / "exports" / "new.csv"


def test_dot_dot_inside_the_root_is_resolved(root: Path) -> None:
    result = confine(root, "data/../data/guest.csv", argument="file")
    assert result == root.resolve() / "data" / "guest.csv"


def test_root_itself_is_allowed(root: Path) -> None:
    assert confine(root, str(root), argument="file") == root.resolve()
    assert confine(root, ".", argument="file") == root.resolve()


def test_parent_traversal_is_refused(root: Path) -> None:
    with pytest.raises(PathNotAllowed, match="outside the server's root directory"):
        confine(root, "../../etc/passwd", argument="file")


def test_sibling_folder_sharing_the_root_prefix_is_refused(root: Path) -> None:
    sibling = root.parent / (root.name + "-other")
    sibling.mkdir()
    with pytest.raises(PathNotAllowed):
        confine(root, str(sibling / "a.csv"), argument="file")


def test_absolute_path_outside_the_root_is_refused(root: Path) -> None:
    outside = root.parent / "outside" / "secret.csv"
    with pytest.raises(PathNotAllowed, match="outside the server's root directory"):
        confine(root, str(outside), argument="file")


def test_symlink_inside_the_root_pointing_outside_is_refused(root: Path) -> None:
    link = root / "data" / "link.csv"
    link.symlink_to(root.parent / "outside" / "secret.csv")
    with pytest.raises(PathNotAllowed):
        confine(root, "data/link.csv", argument="file")


def test_symlinked_folder_inside_the_root_pointing_outside_is_refused(root: Path) -> None:
    (root / "escape").symlink_to(root.parent / "outside", target_is_directory=True)
    with pytest.raises(PathNotAllowed):
        confine(root, "escape/secret.csv", argument="file")


def test_symlink_inside_the_root_pointing_inside_is_followed(root: Path) -> None:
    (root / "alias.csv").symlink_to(root / "data" / "guest.csv")
    result = confine(root, "alias.csv", argument="file")
    assert result == root.resolve() / "data" / "guest.csv"


def test_root_given_through_a_symlink_still_confines(tmp_path: Path, root: Path) -> None:
    link_root = tmp_path / "link-root"
    link_root.symlink_to(root, target_is_directory=True)
    assert confine(link_root, "data/guest.csv", argument="file") == (
        root.resolve() / "data" / "guest.csv"
    )
    with pytest.raises(PathNotAllowed):
        confine(link_root, "../outside/secret.csv", argument="file")


def test_nul_character_is_refused(root: Path) -> None:
    with pytest.raises(PathNotAllowed, match="file contains a NUL character"):
        confine(root, "data/guest.csv\x00.txt", argument="file")


def test_refusal_names_the_argument_and_asks_for_a_path_inside_the_root(root: Path) -> None:
    with pytest.raises(PathNotAllowed) as caught:
        confine(root, "/etc/passwd", argument="output_path")
    message = caught.value.message
    assert message.startswith("output_path '/etc/passwd' is outside")
    assert repr(os.path.realpath(root)) in message
    assert message.endswith("give a path inside it")


def test_refusal_is_a_parameter_error(root: Path) -> None:
    with pytest.raises(ParameterError):
        confine(root, "/etc/passwd", argument="file")


def test_private_folder_inside_the_root_is_refused(root: Path) -> None:
    home = root / "home"
    (home / "tables").mkdir(parents=True)

    with pytest.raises(PathNotAllowed, match="fate-nb's own home folder"):
        confine(root, "home/fate_nb.db", argument="output_path", private=[home])


def test_private_folder_reached_through_a_symlink_is_refused(root: Path) -> None:
    home = root / "home"
    home.mkdir()
    os.symlink(home, root / "alias")

    with pytest.raises(PathNotAllowed, match="fate-nb's own home folder"):
        confine(root, "alias/fate_nb.db", argument="file", private=[home])


def test_hidden_paths_are_refused_unless_allowed(root: Path) -> None:
    (root / ".cache").mkdir()

    with pytest.raises(PathNotAllowed, match="is hidden"):
        confine(root, ".cache/x.csv", argument="file", allow_hidden=False)
    assert confine(root, ".cache/x.csv", argument="file") == root.resolve() / ".cache" / "x.csv"
