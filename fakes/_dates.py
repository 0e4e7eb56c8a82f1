"""Dates as Elasticsearch reads them: its default formats, date math, and date-math index names.

See https://www.elastic.co/guide/en/elasticsearch/reference/current/common-options.html#date-math
and .../api-conventions.html#api-date-math-index-names.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

_ISO = re.compile(
    r"^(?P<y>[+-]?\d{4,9})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r"(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$"
)
_SLASHED = re.compile(
    r"^(?P<y>\d{4})/(?P<mo>\d{2})/(?P<d>\d{2})(?: (?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2}))?"
    r"(?: (?P<tz>[+-]\d{4}))?$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_UNITS = "yMwdhHms"


def _from_match(m: re.Match[str]) -> int | None:
    parts = m.groupdict()
    try:
        tz = timezone.utc
        raw_tz = parts.get("tz")
        if raw_tz and raw_tz != "Z":
            sign = -1 if raw_tz[0] == "-" else 1
            digits = raw_tz[1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
            tz = timezone(sign * timedelta(minutes=minutes))
        frac = (parts.get("f") or "0").ljust(9, "0")
        moment = datetime(
            int(parts["y"]),
            int(parts.get("mo") or 1),
            int(parts.get("d") or 1),
            int(parts.get("h") or 0),
            int(parts.get("mi") or 0),
            int(parts.get("s") or 0),
            tzinfo=tz,
        )
    except ValueError:
        return None
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + int(frac[:3])


def parse_date(value: Any, fmt: str = "strict_date_optional_time||epoch_millis") -> int | None:
    """Milliseconds since the epoch for ``value`` in one of ``fmt``'s formats, else None."""
    if isinstance(value, bool):
        return None
    for name in fmt.split("||"):
        name = name.strip()
        if name in ("epoch_millis", "epoch_second"):
            scale = 1 if name == "epoch_millis" else 1000
            if isinstance(value, (int, float)):
                return int(value * scale)
            if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
                return int(float(value) * scale)
            continue
        if not isinstance(value, str):
            continue
        m = (_SLASHED if "/" in name else _ISO).match(value)
        if m is None and "/" not in name:
            m = _SLASHED.match(value)
        if m is not None:
            millis = _from_match(m)
            if millis is not None:
                return millis
    return None


def _add(moment: datetime, amount: int, unit: str) -> datetime:
    if unit == "y":
        return _add(moment, amount * 12, "M")
    if unit == "M":
        months = moment.month - 1 + amount
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day)
    seconds = {"w": 604_800, "d": 86_400, "h": 3_600, "H": 3_600, "m": 60, "s": 1}[unit]
    return moment + timedelta(seconds=amount * seconds)


def _floor(moment: datetime, unit: str) -> datetime:
    if unit == "y":
        return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "M":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "w":
        start = moment - timedelta(days=moment.weekday())
        return start.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "d":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit in "hH":
        return moment.replace(minute=0, second=0, microsecond=0)
    if unit == "m":
        return moment.replace(second=0, microsecond=0)
    return moment.replace(microsecond=0)


def date_math(
    expr: Any,
    now_ms: int,
    fmt: str = "strict_date_optional_time||epoch_millis",
    *,
    round_up: bool = False,
) -> int | None:
    """Evaluate a date or a date-math expression (``now-1d/d``, ``2024-01-01||+1M``).

    ``round_up`` rounds ``/unit`` to the unit's last millisecond, as ``gt`` and ``lte`` do.
    """
    if not isinstance(expr, str):
        return parse_date(expr, fmt)
    if expr.startswith("now"):
        anchor, ops = now_ms, expr[3:]
    elif "||" in expr:
        head, ops = expr.split("||", 1)
        parsed = parse_date(head, fmt)
        if parsed is None:
            return None
        anchor = parsed
    else:
        return parse_date(expr, fmt)
    moment = _EPOCH + timedelta(milliseconds=anchor)
    for sign, amount, unit in re.findall(r"([+\-/])(\d*)([yMwdhHms])", ops):
        if sign == "/":
            floored = _floor(moment, unit)
            moment = _add(floored, 1, unit) - timedelta(milliseconds=1) if round_up else floored
        else:
            moment = _add(moment, int(amount or 1) * (-1 if sign == "-" else 1), unit)
    if re.sub(r"([+\-/])(\d*)([yMwdhHms])", "", ops):
        return None
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def format_millis(millis: int) -> str:
    """Milliseconds as ``strict_date_optional_time`` text (UTC)."""
    moment = _EPOCH + timedelta(milliseconds=millis)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_JAVA_PATTERN = (
    ("yyyy", "%Y"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("mm", "%M"),
    ("ss", "%S"),
)


def resolve_index_name(name: str, now_ms: Callable[[], int]) -> str:
    """Expand a date-math index name ``<static{now/d{yyyy.MM.dd}}>``; other names pass.

    ``now_ms`` is asked only for a date-math name (most names are plain).
    """
    if not (name.startswith("<") and name.endswith(">")):
        return name
    now = now_ms()

    def expand(m: re.Match[str]) -> str:
        math, _, pattern = m.group(1).partition("{")
        pattern = (pattern.rstrip("}") or "yyyy.MM.dd").split("|")[0]
        millis = date_math(math, now)
        if millis is None:
            return m.group(0)
        for java, py in _JAVA_PATTERN:
            pattern = pattern.replace(java, py)
        return (_EPOCH + timedelta(milliseconds=millis)).strftime(pattern)

    return re.sub(r"\{([^{}]*(?:\{[^{}]*\})?)\}", expand, name[1:-1])
