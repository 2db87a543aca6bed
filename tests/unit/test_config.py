"""DVC config: four levels, configobj syntax, lower-casing, relative paths, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.project.config import load_dvc_config


@pytest.fixture
def levels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Empty system and global dirs, and a project's .dvc/ dir, wired through the env."""
    paths = {
        "system": tmp_path / "system",
        "global": tmp_path / "global",
        "dvc": tmp_path / "proj" / ".dvc",
    }
    for path in paths.values():
        path.mkdir(parents=True)
    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(paths["system"]))
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", str(paths["global"]))
    return paths


def write(path: Path, text: str) -> None:
    path.write_text(text)


def test_missing_files_give_an_empty_config_and_a_clear_error(levels: dict[str, Path]) -> None:
    config = load_dvc_config(levels["dvc"])
    assert config.remote_names == []
    with pytest.raises(ConfigError, match="No DVC remote is configured") as info:
        config.remote()
    assert "dvc remote add -d" in info.value.hint


def test_quoted_sections_lowercase_keys_and_default(levels: dict[str, Path]) -> None:
    write(
        levels["dvc"] / "config",
        "[core]\n    Remote = Storage\n['remote \"Storage\"']\n    URL = s3://bkt/prefix\n"
        '    EndpointURL = http://127.0.0.1:5555\n[remote "plain"]\n    url = /abs/path\n',
    )
    config = load_dvc_config(levels["dvc"])
    assert config.remote_names == ["plain", "storage"]
    remote = config.remote()
    assert remote.name == "storage" and remote.scheme == "s3"
    assert remote.url == "s3://bkt/prefix"
    assert remote.options["endpointurl"] == "http://127.0.0.1:5555"
    assert config.remote("PLAIN").url == "/abs/path"


def test_later_levels_shadow_earlier_ones_key_by_key(levels: dict[str, Path]) -> None:
    write(levels["system"] / "config", "['remote \"s\"']\n    url = /sys\n    jobs = 2\n")
    write(levels["global"] / "config", "['remote \"s\"']\n    jobs = 4\n    region = eu\n")
    write(levels["dvc"] / "config", "[core]\n    remote = s\n['remote \"s\"']\n    url = /repo\n")
    write(levels["dvc"] / "config.local", "['remote \"s\"']\n    access_key_id = secret\n")
    remote = load_dvc_config(levels["dvc"]).remote()
    assert remote.url == "/repo"
    assert remote.options["jobs"] == "4"
    assert remote.options["region"] == "eu"
    assert remote.options["access_key_id"] == "secret"


def test_relative_paths_resolve_against_the_real_dvc_dir(levels: dict[str, Path]) -> None:
    write(
        levels["dvc"] / "config",
        "['remote \"rel\"']\n    url = ../../relstore\n    keyfile = keys/id\n"
        "[cache]\n    dir = ../shared-cache\n",
    )
    config = load_dvc_config(levels["dvc"])
    project_parent = levels["dvc"].parent.parent
    assert config.remote("rel").url == str(project_parent / "relstore")
    assert config.remote("rel").options["keyfile"] == str(levels["dvc"] / "keys" / "id")
    assert config.sections[("cache", "")]["dir"] == str(levels["dvc"].parent / "shared-cache")


def test_a_commits_config_text_replaces_the_repo_level_only(levels: dict[str, Path]) -> None:
    write(levels["dvc"] / "config", "[core]\n    remote = new\n['remote \"new\"']\n    url = /n\n")
    write(levels["dvc"] / "config.local", "['remote \"old\"']\n    password = pw\n")
    committed = "[core]\n    remote = old\n['remote \"old\"']\n    url = ../old-store\n"
    config = load_dvc_config(levels["dvc"], repo_config_text=committed)
    remote = config.remote()
    assert remote.name == "old" and remote.options["password"] == "pw"
    assert remote.url == str(levels["dvc"].parent / "old-store")
    assert "new" not in config.remote_names


def test_remote_references_merge_options_and_append_the_path(levels: dict[str, Path]) -> None:
    write(
        levels["dvc"] / "config",
        "['remote \"base\"']\n    url = s3://bkt/root\n    region = us-east-1\n"
        "['remote \"sub\"']\n    url = remote://base/team/a\n",
    )
    remote = load_dvc_config(levels["dvc"]).remote("sub")
    assert remote.url == "s3://bkt/root/team/a"
    assert remote.options["region"] == "us-east-1"


def test_unknown_remote_and_missing_url_explain_themselves(levels: dict[str, Path]) -> None:
    write(levels["dvc"] / "config", "['remote \"a\"']\n    url = /a\n")
    write(levels["dvc"] / "config.local", "['remote \"creds\"']\n    password = x\n")
    config = load_dvc_config(levels["dvc"])
    with pytest.raises(ConfigError, match="'nope' doesn't exist"):
        config.remote("nope")
    with pytest.raises(ConfigError, match="has no url"):
        config.remote("creds")
    with pytest.raises(ConfigError, match="No default DVC remote") as info:
        config.remote()
    assert "dvc remote default" in info.value.hint
    assert [r.name for r in config.remotes()] == ["a"]


def test_cloud_versioned_remotes_are_recognised(levels: dict[str, Path]) -> None:
    write(
        levels["dvc"] / "config", "['remote \"v\"']\n    url = s3://b\n    version_aware = true\n"
    )
    assert load_dvc_config(levels["dvc"]).remote("v").is_cloud_versioned


def test_a_broken_file_names_itself(levels: dict[str, Path]) -> None:
    write(levels["dvc"] / "config", "[core\n    remote = x\n")
    with pytest.raises(ConfigError, match="Cannot parse DVC config"):
        load_dvc_config(levels["dvc"])


def test_configobj_syntax_as_dvc_reads_it(levels: dict[str, Path]) -> None:
    """Quotes and escapes undone, unquoted commas a list (joined for cache.type, refused
    for a URL, as DVC's schema refuses it), %(name)s interpolated, as DVC's ConfigObj."""
    write(
        levels["dvc"] / "config",
        "[cache]\n    type = hardlink, symlink\n"
        '[\'remote "a"\']\n    url = "/data/st#1"  # a comment\n    region = eu\n'
        "    endpointurl = https://%(region)s.example\n",
    )
    config = load_dvc_config(levels["dvc"])
    assert config.sections[("cache", "")]["type"] == "hardlink,symlink"
    assert config.remote("a").url == "/data/st#1"
    assert config.sections[("remote", "a")]["endpointurl"] == "https://eu.example"
    write(levels["dvc"] / "config", "['remote \"b\"']\n    url = /one, /two\n")
    with pytest.raises(ConfigError, match="holds a comma outside quotes"):
        load_dvc_config(levels["dvc"])
    write(levels["dvc"] / "config", "['remote \"c\"']\n    url = /x/%(nothing)s\n")
    with pytest.raises(ConfigError, match="reference"):
        load_dvc_config(levels["dvc"])
