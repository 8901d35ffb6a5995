"""Switches that make the simulator misbehave the ways a real server can.

A client is only as good as its handling of bad answers: a dropped
connection after the file went out, a 500, a login page instead of a
receipt, a reply that never ends. Each fault here imitates one of them, on
all uploads (sticky) or only on the next few (``once``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields

SWITCHES = (
    "drop_after_body",
    "http_500",
    "garbage",
    "expire_session",
    "redirect_login",
    "redirect_307",
    "no_receipt",
    "huge_reply",
    "slow_reply",
)
"""Faults that are on or off."""

TIMED = ("delay", "latency")
"""Faults that take a number of seconds."""

FAULT_NAMES = SWITCHES + TIMED


@dataclass(frozen=True, slots=True)
class ActiveFaults:
    """The faults one upload meets, taken from ``Faults`` when it arrives."""

    switches: frozenset[str] = frozenset()
    delay: float = 0.0

    def __contains__(self, name: object) -> bool:
        return name in self.switches


@dataclass
class Faults:
    """Mutable fault switches of a running simulator; all off by default.

    Which faults still store the file: ``delay``, ``drop_after_body``,
    ``garbage``, ``no_receipt``, ``huge_reply`` and ``slow_reply`` break only
    the reply, so the file *was* received (the case a client must report as
    unknown). ``http_500``, ``expire_session``, ``redirect_login`` and
    ``redirect_307`` answer before the file is taken. When several are on,
    the first in that order of precedence applies: expire_session,
    redirect_login, redirect_307, http_500, then (after storing)
    drop_after_body, garbage, huge_reply, no_receipt, slow_reply.
    """

    delay: float = 0.0
    """Seconds to wait before replying to an upload."""
    drop_after_body: bool = False
    """Read the whole request, then close the connection without a reply."""
    http_500: bool = False
    """Answer an upload with HTTP 500 and an error page."""
    garbage: bool = False
    """Answer an upload with random binary bytes labelled as HTML."""
    expire_session: bool = False
    """Forget every session: the upload gets the login page."""
    redirect_login: bool = False
    """Answer an upload with a 302 to the login page."""
    redirect_307: bool = False
    """Answer an upload with a 307 to another upload path."""
    no_receipt: bool = False
    """Answer with a normal-looking HTML page that holds no receipt."""
    huge_reply: bool = False
    """Answer with ``huge_reply_bytes`` of HTML, streamed."""
    slow_reply: bool = False
    """Dribble the reply, ``slow_chunk`` bytes every ``slow_interval`` seconds."""
    latency: float = 0.0
    """Seconds added before answering every request, uploads or not."""

    huge_reply_bytes: int = 50_000_000
    slow_interval: float = 0.2
    slow_chunk: int = 16

    _once: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _once_delay: float = field(default=0.0, repr=False, compare=False)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, repr=False, compare=False
    )

    def once(self, name: str, times: int = 1, *, seconds: float = 0.0) -> None:
        """Apply a fault to the next ``times`` uploads only.

        Args:
            name: One of ``SWITCHES``, or ``delay`` (with ``seconds``).
            times: How many uploads it applies to.
            seconds: The delay, for ``delay``.

        Raises:
            ValueError: for an unknown name, or ``latency`` (which is per request).
        """
        name = normalise(name)
        if name not in SWITCHES and name != "delay":
            raise ValueError(f"fault {name!r} cannot be applied once")
        with self._lock:
            self._once[name] = self._once.get(name, 0) + times
            if name == "delay":
                self._once_delay = seconds

    def set(self, spec: str) -> None:
        """Turn a fault on from text such as ``http_500`` or ``delay=2.5``.

        Raises:
            ValueError: for an unknown fault or a bad number.
        """
        name, _, value = spec.partition("=")
        name = normalise(name)
        if name in TIMED:
            seconds = float(value) if value else 1.0
            if seconds < 0:
                raise ValueError(f"fault {name} needs a positive number of seconds")
            setattr(self, name, seconds)
        elif name in SWITCHES and not value:
            setattr(self, name, True)
        else:
            raise ValueError(f"unknown fault {spec!r}; known: {', '.join(FAULT_NAMES)}")

    def clear(self) -> None:
        """Turn every fault off, sticky and one-shot."""
        with self._lock:
            for f in fields(self):
                if f.name in FAULT_NAMES:
                    setattr(self, f.name, f.default)
            self._once.clear()
            self._once_delay = 0.0

    def take(self) -> ActiveFaults:
        """The faults the upload arriving now meets (uses up one-shot ones)."""
        with self._lock:
            active = {name for name in SWITCHES if getattr(self, name)}
            delay = self.delay
            for name, left in list(self._once.items()):
                if left <= 0:
                    continue
                self._once[name] = left - 1
                if name == "delay":
                    delay = max(delay, self._once_delay)
                else:
                    active.add(name)
            return ActiveFaults(frozenset(active), delay)


def normalise(name: str) -> str:
    """Accept ``http-500`` as well as ``http_500``."""
    return name.strip().lower().replace("-", "_")
