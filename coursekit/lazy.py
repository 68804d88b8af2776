"""Lazy package ``__init__``s (PEP 562), layer 0: a package lists ``name -> submodule`` and
each name is imported on first use, so ``import coursekit.viz.kernels`` does not pull in the
torch modules of ``coursekit.viz``.

Usage, in a package's ``__init__.py``::

    from coursekit.lazy import lazy_package
    EXPORTS = {"saliency": "saliency", "plot_history": "history", ...}   # name -> submodule
    __getattr__, __dir__, __all__ = lazy_package(__name__, EXPORTS)

Many exported functions share their submodule's name (``viz.saliency.saliency``). Python's
import system sets ``package.saliency = <submodule>`` whenever that submodule is first
imported (by anyone), which would hide the function; the package's module class therefore
stores the exported function instead of the submodule for such names.
"""
from __future__ import annotations

import importlib
import sys
import types

__all__ = ["lazy_package"]


class _LazyPackage(types.ModuleType):
    """Module class of a lazy package: a submodule bound under an exported name that the
    submodule defines is replaced by that exported object."""

    def __setattr__(self, name, value):
        exports = self.__dict__.get("_lazy_exports", {})
        if (isinstance(value, types.ModuleType) and name in exports
                and value.__name__ == f"{self.__name__}.{exports[name]}"):
            value = getattr(value, name)
        super().__setattr__(name, value)


def lazy_package(package: str, exports: dict[str, str]):
    """Make ``package`` (its ``__name__``) load ``exports`` (name -> submodule, relative) on
    first access. Returns ``(__getattr__, __dir__, __all__)`` for the package to bind.

    Unknown names that are submodules (``package.hooks``) are imported too, as an eager
    ``__init__`` would have exposed them."""
    module = sys.modules[package]
    module.__class__ = _LazyPackage
    module._lazy_exports = dict(exports)

    def __getattr__(name):
        if name in exports:
            value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
            setattr(module, name, value)  # cache: later look-ups skip __getattr__
            return value
        if not name.startswith("__"):
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as err:
                if err.name != f"{package}.{name}":
                    raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(module.__dict__) | set(exports))

    return __getattr__, __dir__, sorted(exports)
