"""Logging from the config's ``ops`` section: readable text or JSON lines, optional rotating file,
secrets masked in every record; plus one-line structured events (heartbeat, order events).

    install_logging(config.ops, secrets_of(config))
    add_secrets(generated_key)        # a secret made after logging was set up
    heartbeat(log, price="100000.01", center="100000", slots_locked=9, position="0.002")
    order_event(log, "placed", client_id="paper1_B255t_3", side="BUY", price="99990", qty="0.001")

Masking happens twice: a :class:`SecretMaskFilter` on every handler rewrites the record (message,
args, exception and stack text, extra fields), and the formatters mask their final output, so a secret
that reaches a log call by accident (inside an exception message, a repr, an f-string) never reaches a
stream or file.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.handlers
import sys
import traceback
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, quote_plus, urlsplit

from market_maker.ops.log_handoff import flush_handoff, start_handoff, stop_handoff
from market_maker.settings.models import Config, OpsConfig
from market_maker.store.private import create_private_file

MASK = "**********"
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_OURS = "_market_maker_handler"
# Attributes every LogRecord has; anything else came from ``extra=`` and is shown in JSON lines.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


# A webhook's path is masked on its own (HTTP libraries log host and path apart) when it is at least
# this long: a short path like "/" or "/alert" carries no secret, and masking it would garble logs.
_MIN_SECRET_PATH = 8


def secrets_of(config: Config) -> list[str]:
    """The configured secrets in clear (API key, API secret, ops token, the alerts webhook URL and its
    path), for masking only."""
    creds = config.credentials
    given = (creds.api_key, creds.api_secret, creds.ops_token)
    found = [s.get_secret_value() for s in given if s is not None]
    if creds.private_key is not None:  # its PEM body lines, which are what could leak into a line
        pem = creds.private_key.get_secret_value()
        found += [line for line in pem.splitlines() if line and not line.startswith("-----")]
    webhook = config.webhook_url()
    if webhook:
        parts = urlsplit(webhook)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        found += [webhook] + ([path] if len(path) >= _MIN_SECRET_PATH else [])
    return found


class Masker:
    """Replaces every occurrence of any secret (and its URL-encoded forms) with ``**********``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._forms: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Mask these too from now on (e.g. a key generated after logging was set up)."""
        forms = set(self._forms)
        for secret in secrets:
            if secret:
                forms.update({secret, quote(secret, safe=""), quote_plus(secret), repr(secret)[1:-1]})
        # Longest first, so a secret that contains another is replaced whole. Rebinding (not mutating)
        # keeps a concurrent mask() on another thread consistent.
        self._forms = sorted(forms, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def mask(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def mask_value(self, value: Any) -> Any:
        """Strings masked; containers masked inside; other values as their masked ``str`` if they leak."""
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, int | float | bool | Decimal) or value is None:
            return value
        if isinstance(value, Mapping):
            return {self.mask(str(k)): self.mask_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.mask_value(v) for v in value]
        text = str(value)
        masked = self.mask(text)
        return masked if masked != text else value


# The masker shared by the handlers install_logging() set up; add_secrets() extends it.
_MASKER = Masker()


def add_secrets(*secrets: str) -> None:
    """Mask these secrets in every handler :func:`install_logging` installed (e.g. a generated key)."""
    _MASKER.add(*secrets)


class SecretMaskFilter(logging.Filter):
    """Rewrites each record so no configured secret survives in it; never drops a record."""

    def __init__(self, secrets: Iterable[str] | Masker) -> None:
        super().__init__()
        self.masker = secrets if isinstance(secrets, Masker) else Masker(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.masker:
            return True
        m = self.masker
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what we can, masked
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = m.mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = m.mask(record.exc_text)
            # Keep exc_info out of later formatting: a formatter would render the unmasked original.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = m.mask(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, m.mask_value(value))
        return True


class _MaskingText(logging.Formatter):
    def __init__(self, masker: Masker) -> None:
        super().__init__(TEXT_FORMAT)
        self.masker = masker

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _iso(record.created)

    def format(self, record: logging.LogRecord) -> str:
        return self.masker.mask(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the ``extra=`` fields, exc when present."""

    def __init__(self, masker: Masker | None = None) -> None:
        super().__init__()
        self.masker = masker or Masker(())

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return self.masker.mask(json.dumps(out, default=str, ensure_ascii=False))


def _iso(created: float) -> str:
    return (
        dt.datetime.fromtimestamp(created, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def install_logging(
    ops: OpsConfig, secrets: Iterable[str] = (), stream: IO[str] | None = None
) -> list[logging.Handler]:
    """Configure the root logger from ``ops`` (level, format, rotating file); returns the handlers.

    Replaces handlers an earlier call installed (so calling it twice is safe) and leaves others alone.
    The stream handler writes to ``stream`` (default stderr); with ``ops.log_file`` a
    RotatingFileHandler (``log_max_bytes``, ``log_backups``) writes the same lines to the file.
    Secrets known only later (a generated simulator key) are added with :func:`add_secrets`.
    The handlers run on a writer thread (see log_handoff.py); :func:`flush_logs` waits for it.
    """
    global _MASKER
    _MASKER = masker = Masker(secrets)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OURS, False):
            root.removeHandler(handler)
            handler.close()
    stop_handoff()  # the earlier writer writes what it holds and closes its handlers
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if ops.log_file is not None:
        create_private_file(Path(ops.log_file))  # 0600 in a 0700 directory (rotated files: the umask)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                ops.log_file, maxBytes=ops.log_max_bytes, backupCount=ops.log_backups, encoding="utf-8"
            )
        )
    for handler in handlers:
        handler.addFilter(SecretMaskFilter(masker))
        handler.setFormatter(JsonFormatter(masker) if ops.log_format == "json" else _MaskingText(masker))
    # masking, formatting and writing run on one writer thread, not in the (trading) caller's
    handoff = start_handoff(handlers)
    setattr(handoff, _OURS, True)
    root.addHandler(handoff)
    root.setLevel(ops.log_level)
    return handlers


def flush_logs() -> None:
    """Wait until every line logged so far is written (the writer thread runs behind the callers)."""
    flush_handoff()


def _text(value: Any) -> str:
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return json.dumps(text) if (not text or any(c.isspace() or c in '"=' for c in text)) else text


def event(
    logger: logging.Logger, name: str, level: int = logging.INFO, text: str | None = None, /, **fields: Any
) -> None:
    """One structured line: in text ``text`` (default ``<name> k=v k=v``); in JSON ``msg`` is that line
    and ``event`` and the fields are keys beside it. Fields that are None are left out.

    A field named like a LogRecord attribute (``name``, ``msg`` ...) gets a trailing underscore in JSON.
    """
    given = {k: v for k, v in fields.items() if v is not None}
    plain = {
        (f"{k}_" if k in _STANDARD or k == "event" else k): (format(v, "f") if isinstance(v, Decimal) else v)
        for k, v in given.items()
    }
    if text is None:
        text = f"{name} " + " ".join(f"{k}={_text(v)}" for k, v in given.items())
    logger.log(level, "%s", text, extra={"event": name, **plain})


def heartbeat(logger: logging.Logger, text: str | None = None, /, **fields: Any) -> None:
    """The periodic heartbeat line (price, center, interval, slots, position, PnL, fees, orders ...)."""
    event(logger, "heartbeat", logging.INFO, text, **fields)


def order_event(
    logger: logging.Logger,
    kind: str,
    *,
    client_id: str,
    side: str,
    price: Decimal | str | None = None,
    qty: Decimal | str | None = None,
    level: int = logging.INFO,
    text: str | None = None,
    **fields: Any,
) -> None:
    """One line per order event; ``kind`` e.g. placed, accepted, rejected, filled, cancel_requested,
    closed, adopted (the JSON ``event`` is ``order_<kind>``); ``text`` replaces the default text line."""
    event(
        logger,
        f"order_{kind}",
        level,
        text,
        client_id=client_id,
        side=side,
        price=price,
        qty=qty,
        **fields,
    )
