"""Request weights per IP and minute, order counts per account, 429 then 418 bans (Retry-After)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class _Ip:
    minute: int = -1
    used: int = 0
    penalty_until: float = 0.0  # after a 429: requests before this time earn a ban
    banned_until: float = 0.0
    bans: int = 0


@dataclass
class Verdict:
    """The limiter's answer for one request: pass (status 0) or 429/418 with Retry-After seconds."""

    status: int
    retry_after: int
    used: int
    msg: str


class WeightLimiter:
    """One venue's REQUEST_WEIGHT limit per IP and calendar minute.

    Over the limit: 429 with Retry-After until the minute ends. Another request before that: 418, a
    ban of ``ban_seconds`` that doubles on each repeat (Binance escalates from 2 minutes to 3 days).
    """

    def __init__(self, limit: int, ban_seconds: int) -> None:
        self.limit = limit
        self.ban_seconds = ban_seconds
        self._ips: dict[str, _Ip] = {}
        self.global_ban_until = 0.0

    def used(self, ip: str, now_s: float) -> int:
        """Weight used by ``ip`` in the current minute."""
        st = self._ips.get(ip)
        return st.used if st and st.minute == int(now_s // 60) else 0

    def admit(self, ip: str, weight: int, now_s: float) -> Verdict:
        """Count ``weight`` for ``ip`` and say whether the request may proceed."""
        st = self._ips.get(ip)
        if st is None:
            st = self._ips[ip] = _Ip()
        minute = int(now_s // 60)
        if st.minute != minute:
            st.minute, st.used = minute, 0
        banned = max(st.banned_until, self.global_ban_until)
        if banned > now_s:
            return Verdict(418, int(banned - now_s) + 1, st.used, _ban_msg(banned))
        if st.penalty_until > now_s:
            st.bans += 1
            st.banned_until = now_s + self.ban_seconds * 2 ** (st.bans - 1)
            st.penalty_until = 0.0
            return Verdict(418, int(st.banned_until - now_s) + 1, st.used, _ban_msg(st.banned_until))
        st.used += weight
        if st.used > self.limit:
            st.penalty_until = (minute + 1) * 60
            return Verdict(
                429,
                int(st.penalty_until - now_s) + 1,
                st.used,
                f"Too much request weight used; current limit is {self.limit} request weight per 1 MINUTE. "
                "Please use WebSocket Streams for live updates to avoid polling the API.",
            )
        return Verdict(0, 0, st.used, "")

    def state(self, now_s: float) -> dict[str, object]:
        """A view for tests and the control API."""
        return {
            "limit": self.limit,
            "global_ban_until": self.global_ban_until,
            "ips": {
                ip: {
                    "used": s.used if s.minute == int(now_s // 60) else 0,
                    "banned_until": s.banned_until,
                    "bans": s.bans,
                }
                for ip, s in self._ips.items()
            },
        }

    def reset(self) -> None:
        """Forget every count and ban."""
        self._ips.clear()
        self.global_ban_until = 0.0


def _ban_msg(until_s: float) -> str:
    return (
        f"Way too much request weight used; IP banned until {int(until_s * 1000)}. "
        "Please use WebSocket Streams for live updates to avoid bans."
    )


@dataclass
class OrderCounter:
    """New orders per account in a sliding 10-second window (Binance's ORDERS 10 SECOND limit)."""

    limit: int
    _times: dict[str, deque[float]] = field(default_factory=dict)

    def count(self, account: str, now_s: float) -> int:
        """Orders in the window, dropping older ones."""
        q = self._times.setdefault(account, deque())
        while q and q[0] <= now_s - 10:
            q.popleft()
        return len(q)

    def add(self, account: str, now_s: float) -> int | None:
        """Record one new order; None when over the limit (the order must be refused with -1015)."""
        n = self.count(account, now_s)
        if n >= self.limit:
            return None
        self._times[account].append(now_s)
        return n + 1


@dataclass
class FixedWindowCounter:
    """New orders per account in fixed windows of ``window_s`` (Binance's ORDERS 1 DAY on spot, resetting
    at 00:00 UTC, and 1 MINUTE on USD-M)."""

    limit: int
    window_s: int
    _counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # account -> (window, count)

    def count(self, account: str, now_s: float) -> int:
        """Orders in the current window."""
        window, n = self._counts.get(account, (-1, 0))
        return n if window == int(now_s // self.window_s) else 0

    def add(self, account: str, now_s: float) -> int:
        """Record one new order (the caller checked :meth:`count` against the limit); the new count."""
        n = self.count(account, now_s) + 1
        self._counts[account] = (int(now_s // self.window_s), n)
        return n
