from pathlib import Path

import pytest

from retrieval.config import ConfigError, load_config, parse_config

REPO = Path(__file__).resolve().parent.parent


def test_shipped_config_loads_with_paths_relative_to_it():
    cfg = load_config(REPO / "config.yaml")
    assert cfg.corpus.path == REPO / "corpus"
    assert cfg.index.path == REPO / ".qabot" / "index"
    assert cfg.retrieval.fusion == "zsum"
    assert cfg.telegram.admins == []
    # Nobody but admins until someone decides otherwise (issue 11: not open by default).
    assert cfg.telegram.open_to_everyone is False
    assert cfg.telegram.allowed_users == [] and cfg.telegram.allowed_chats == []


def test_env_variable_names_the_config(tmp_path, monkeypatch):
    (tmp_path / "c.yaml").write_text("retrieval:\n  top_k: 7\n", encoding="utf-8")
    monkeypatch.setenv("QABOT_CONFIG", str(tmp_path / "c.yaml"))
    cfg = load_config()
    assert cfg.retrieval.top_k == 7
    assert cfg.corpus.path == tmp_path / "corpus"


def test_unknown_keys_and_wrong_types_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown key.*topk"):
        parse_config({"retrieval": {"topk": 3}}, tmp_path)
    with pytest.raises(ConfigError, match="retrieval.top_k must be int"):
        parse_config({"retrieval": {"top_k": "three"}}, tmp_path)
    with pytest.raises(ConfigError, match="list of integers"):
        parse_config({"telegram": {"admins": ["@boss"]}}, tmp_path)


def test_overrides_take_dotted_keys(tmp_path):
    cfg = parse_config({}, tmp_path, {"retrieval.dense_weight": 1, "chunking.max_tokens": 150})
    assert cfg.retrieval.dense_weight == 1.0 and cfg.chunking.max_tokens == 150


def test_missing_file_says_how_to_point_at_one(tmp_path):
    with pytest.raises(ConfigError, match="--config"):
        load_config(tmp_path / "nope.yaml")


def test_open_to_everyone_is_a_boolean_and_defaults_to_closed(tmp_path):
    assert parse_config({}, tmp_path).telegram.open_to_everyone is False
    assert parse_config({"telegram": {"open_to_everyone": True}}, tmp_path).telegram.open_to_everyone is True
    with pytest.raises(ConfigError, match="telegram.open_to_everyone must be bool"):
        parse_config({"telegram": {"open_to_everyone": "yes"}}, tmp_path)


@pytest.mark.parametrize("lists", [{"allowed_users": [200]}, {"allowed_chats": [-1001]}])
def test_open_to_everyone_beside_an_allow_list_is_an_error(tmp_path, lists):
    with pytest.raises(ConfigError, match="open_to_everyone.*contradicts"):
        parse_config({"telegram": {"open_to_everyone": True, **lists}}, tmp_path)
    assert parse_config({"telegram": {"open_to_everyone": False, **lists}}, tmp_path).telegram.open_to_everyone is False


def test_index_backend_settings_are_checked(tmp_path):
    cfg = parse_config({"index": {"backend": "milvus"}}, tmp_path)
    assert cfg.index.milvus_uri == str(tmp_path / ".qabot" / "index" / "milvus.db")  # follows index.path
    lite = parse_config({"index": {"backend": "milvus", "uri": "data/tin.db"}}, tmp_path)
    assert lite.index.milvus_uri == str(tmp_path / "data" / "tin.db")
    server = parse_config({"index": {"backend": "milvus", "uri": "http://milvus.noibo:19530"}}, tmp_path)
    assert server.index.milvus_uri == "http://milvus.noibo:19530"
    for index, message in [
        ({"backend": "qdrant"}, "index.backend must be local or milvus"),
        ({"backend": "milvus", "uri": "data/tin.sqlite"}, "must end in .db"),
        ({"backend": "milvus", "uri": "ftp://milvus:19530"}, "http"),
        ({"collection": "tin-tuc"}, "index.collection"),
        ({"milvus_dense": "diskann"}, "index.milvus_dense"),
        ({"follow_seconds": -1}, "index.follow_seconds"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_config({"index": index}, tmp_path)
