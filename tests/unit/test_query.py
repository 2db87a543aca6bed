"""The filter language's field names: full keys, last parts, prefixes, and hints."""

from __future__ import annotations

from tui.query import parse, resolve, unknown_fields

KEYS = ["name", "sha", "train.lr", "train.epochs", "model.layers", "accuracy", "loss", "f1"]


def test_a_field_is_a_full_key_a_last_part_or_a_unique_prefix() -> None:
    assert resolve(KEYS, "train.lr") == "train.lr"
    assert resolve(KEYS, "lr") == "train.lr"
    assert resolve(KEYS, "acc") == "accuracy"  # the README's own example said acc>0.9
    assert resolve(KEYS, "ep") == "train.epochs"
    assert resolve([*KEYS, "train.loss_weight"], "los") is None  # loss or loss_weight: ask
    assert resolve(KEYS, "nothing") is None


def test_unknown_fields_get_the_closest_keys() -> None:
    assert unknown_fields(parse("acuracy>0.5 lr=0.01 drop"), KEYS) == [
        "no field 'acuracy' (closest: accuracy)"
    ]
    assert unknown_fields(parse("l>1"), KEYS) == [
        "'l' fits loss, model.layers, train.lr: type more"
    ]
    assert unknown_fields(parse("zzz=1"), KEYS) == ["no field 'zzz'"]
