"""The engine's errors that a user can act on: raised specifically in the engine, turned into
messages only by the front ends (the ``qabot`` command and the bot)."""


class MissingDependency(ImportError):
    """An optional package a configured backend needs is not installed (the message says which)."""


class IndexProblem(Exception):
    """Base for index problems the front ends turn into messages."""


class IndexMissing(IndexProblem):
    """No index has been built at this path yet."""


class IndexMismatch(IndexProblem):
    """The index on disk was built with other settings than the configuration asks for."""


class IndexBusy(IndexProblem):
    """Another build holds the lock."""


class IndexDamaged(IndexProblem):
    """A file of the live generation is missing, truncated or altered (its recorded size or
    checksum differs, or it cannot be parsed).

    ``file`` names it relative to the generation folder ("dense.faiss", "lexical/ids.npy"): the
    message is shown to people (a bot admin among them), so it carries no server path; ``path``
    keeps the full one for logs."""

    def __init__(self, file: str, path=None, detail: str | None = None):
        self.file, self.path, self.detail = file, path, detail
        super().__init__(f"index damaged: {file}; run qabot index --rebuild")
