"""The declaration of one server setting: its environment variable, its default, how its text is
read and what it means, written once. Reading it (`Setting.read`) and README's table of settings
(`runtime.settings_table`) both derive from the declaration, so they cannot drift apart.

A dataclass whose fields are settings names each field's declaration (`declared`) and is read
from the environment as a whole (`read_fields`):

    @dataclass(frozen=True)
    class Limits:
        heartbeat_s: float = declared(EVENTS_HEARTBEAT_S)

    limits = read_fields(Limits, os.environ)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")
D = TypeVar("D", bound="DataclassInstance")
#: The key of a field's declaration in its metadata.
_SETTING = "setting"


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One `PARLEY_*` environment variable of the services."""

    #: The environment variable.
    env: str
    #: The value when the variable is not set.
    default: T
    #: Reads the variable's text; raises ValueError for a bad one (`read` names the variable).
    parse: Callable[[str], T]
    #: What it means, as README's table says it (Markdown).
    doc: str
    #: How the table shows the default where the value does not say it ("the bind address").
    shown: str = ""

    def read(self, env: Mapping[str, str]) -> T:
        """The value in `env`: the variable's text parsed, or the default when it is not set;
        ValueError naming the variable when the text is bad."""
        raw = env.get(self.env)
        if raw is None:
            return self.default
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{self.env}: {exc}") from exc

    def renamed(self, env: str) -> Setting[T]:
        """The same setting under variable `env`: one member of a family declared once
        (`PARLEY_UPSTREAM_<PROCESS>` read as `PARLEY_UPSTREAM_STORE`)."""
        return dataclasses.replace(self, env=env)

    def shown_default(self) -> str:
        """The default as README's table shows it (Markdown)."""
        if self.shown:
            return self.shown
        if self.default in ("", None, ()):
            return "unset"
        return f"`{_text(self.default)}`"


def declared(setting: Setting[T]) -> T:
    """A dataclass field that is `setting`: its default is the setting's, and `read_fields` reads
    it from the environment."""
    return dataclasses.field(default=setting.default, metadata={_SETTING: setting})


def read_fields(cls: type[D], env: Mapping[str, str], **given: Any) -> D:
    """An instance of dataclass `cls`: each field made by `declared` read from `env`, the others
    `given` (or their defaults)."""
    found = {item.name: item.metadata[_SETTING].read(env) for item in dataclasses.fields(cls)
             if _SETTING in item.metadata}
    return cls(**found, **given)


def _text(value: object) -> str:
    """A default as it would be written in its variable (3600.0 as 3600, a tuple comma-separated)."""
    if isinstance(value, tuple):
        return ",".join(_text(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Path):
        return value.as_posix()
    return str(value)
