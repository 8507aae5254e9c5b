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
