"""YAML as DVC reads it: version 1.2's core schema (DVC parses with ruamel.yaml).

PyYAML implements YAML 1.1, whose rules differ exactly where ML projects live: ``1e-4``
and ``5E-4`` are strings there (1.2: floats), ``yes``/``no``/``on``/``off`` booleans (1.2:
strings), ``0777`` octal 511 (1.2: 777), ``1:30`` sexagesimal 90 (1.2: the string
``'1:30'``), and ``0o17`` an error (1.2: 15). This loader keeps PyYAML's safe
constructors and libyaml's fast parser, and swaps in 1.2's resolvers for booleans,
integers and floats (nulls, timestamps and merge keys are the same in both, as ruamel
reads them). Checked value for value against ``dvc exp show --json`` in
``tests/interop/test_values_dvc.py``.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it: ~10x faster, the same safe types. Every
# row of both panes parses three YAML files, so this is most of the app's first screen.
_BASE: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{kind}" for kind in ("bool", "int", "float"))


class Yaml12Loader(_BASE):
    """A safe loader with YAML 1.2's core-schema resolvers."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in _BASE.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
Yaml12Loader.add_implicit_resolver(
    _INT,
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
Yaml12Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int:
    """1.2's integers: decimal (``0777`` is 777), ``0o`` octal, ``0x`` hex."""
    text = str(loader.construct_scalar(node))
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    return sign * int(digits, 10)


Yaml12Loader.add_constructor(_INT, _construct_int)


def load_yaml12(data: bytes | str) -> Any:
    """Parse one YAML document as DVC does (safe: plain data only)."""
    return yaml.load(data, Loader=Yaml12Loader)
