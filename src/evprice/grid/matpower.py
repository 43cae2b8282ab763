"""MATPOWER case files (``.m``): the matrices a case file defines, read without MATLAB.

A MATPOWER case is a MATLAB function that fills a struct ``mpc``::

    function mpc = case4
    mpc.version = '2';
    mpc.baseMVA = 100;
    mpc.bus = [
        1  3  0    0    0  0  1  1  0  12.66  1  1.1  0.9;
        2  1  0.1  0.06 0  0  1  1  0  12.66  1  1.1  0.9;
    ];
    ...

:func:`read_matpower` returns ``baseMVA`` and the numeric matrices (``bus``, ``gen``,
``branch``, and any other ``mpc.NAME = [...]`` block) as float arrays, the layout pandapower's
``from_ppc`` converter reads. Comments (``%`` to the end of a line), ``...`` continuations and
rows separated by ``;`` or new lines are understood; a statement that changes a matrix
with MATLAB code (``mpc.branch(:, 3) = ...``) is refused with the file and line, since its
numbers would otherwise be read unconverted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from evprice.core.config import ConfigError

REQUIRED = ("bus", "gen", "branch")
"""The matrices every MATPOWER case defines."""

_SCALAR = re.compile(r"mpc\.(\w+)\s*=\s*([^;\[]+);")
_MATRIX = re.compile(r"mpc\.(\w+)\s*=\s*\[")
_INDEXED = re.compile(r"^\s*\[?[^=]*mpc\.\w+\s*\(")
"""A statement that assigns into part of a matrix (``mpc.branch(:, 3) = ...``): MATLAB code."""
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:Inf|inf|NaN|nan)")


def _strip_comment(line: str) -> str:
    """The line without its ``%`` comment (MATPOWER files quote no ``%`` inside strings)."""
    return line.split("%", 1)[0]


def read_matpower(path: str | Path) -> dict[str, Any]:
    """``{"baseMVA": float, "version": str, "bus": (n, 13+), "gen": ..., "branch": ..., ...}``.

    Raises:
        ConfigError: the file cannot be read, a matrix row has a non-number or a different
            number of columns than the rows before it, a matrix is not closed, or one of
            :data:`REQUIRED` or ``baseMVA`` is missing; the message names the file and line.
    """
    p = Path(path)
    where = f"MATPOWER file {str(p)!r}"
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise ConfigError(f"{where} cannot be read: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where} is not UTF-8 text: save it as UTF-8") from None
    out: dict[str, Any] = {}
    i = 0
    while i < len(lines):
        text = _strip_comment(lines[i]).strip()
        matrix = _MATRIX.search(text)
        scalar = None if matrix else _SCALAR.search(text)
        if scalar:
            name, value = scalar.group(1), scalar.group(2).strip()
            if name == "version":
                out[name] = value.strip("'\"")
            elif _NUMBER.fullmatch(value):
                out[name] = float(value)
        if not matrix and "=" in text and _INDEXED.match(text.split("=", 1)[0]):
            raise ConfigError(
                f"{where}, line {i + 1}: {text!r} changes the case with MATLAB code, which evprice does not run "
                "(MATPOWER's case33bw.m, for one, converts its impedances from ohms this way): save the case "
                "in plain form (MATPOWER: savecase) or as a pandapower JSON file"
            )
        if not matrix:
            i += 1
            continue
        name, start_line = matrix.group(1), i + 1
        pieces: list[tuple[int, str]] = []  # (line number, text) of the matrix's body
        body = text[matrix.end() :]
        while True:
            while body.rstrip().endswith("...") and i + 1 < len(lines):  # a continued row
                i += 1
                body = body.rstrip()[:-3] + " " + _strip_comment(lines[i])
            closed = "]" in body
            pieces.append((i + 1, body.split("]", 1)[0]))
            if closed:
                break
            i += 1
            if i >= len(lines):
                raise ConfigError(f"{where}: mpc.{name} opened on line {start_line} is never closed with ']'")
            body = _strip_comment(lines[i])
        rows: list[list[float]] = []
        for line_no, piece in pieces:
            for row_text in piece.split(";"):
                tokens = row_text.replace(",", " ").split()
                if not tokens:
                    continue
                bad = [t for t in tokens if not _NUMBER.fullmatch(t)]
                if bad:
                    raise ConfigError(f"{where}, line {line_no}: mpc.{name} holds {bad[0]!r}, not a number")
                if rows and len(tokens) != len(rows[0]):
                    raise ConfigError(
                        f"{where}, line {line_no}: a row of mpc.{name} has {len(tokens)} columns, "
                        f"the rows before it {len(rows[0])}"
                    )
                rows.append([float(t) for t in tokens])
        out[name] = np.array(rows, dtype=np.float64).reshape(len(rows), -1)
        i += 1
    missing = [k for k in ("baseMVA", *REQUIRED) if k not in out]
    if missing:
        raise ConfigError(f"{where} defines no {', '.join('mpc.' + k for k in missing)}: is it a MATPOWER case?")
    out.setdefault("version", "2")
    return out


def matpower_text(name: str, base_mva: float, bus: np.ndarray, gen: np.ndarray, branch: np.ndarray) -> str:
    """A MATPOWER case file of these matrices (the inverse of :func:`read_matpower`)."""

    def block(key: str, rows: np.ndarray) -> list[str]:
        return [f"mpc.{key} = ["] + ["\t" + "\t".join(f"{x:.10g}" for x in row) + ";" for row in rows] + ["];"]

    lines = [f"function mpc = {name}", "mpc.version = '2';", f"mpc.baseMVA = {base_mva:g};"]
    for key, rows in (("bus", bus), ("gen", gen), ("branch", branch)):
        lines += block(key, np.atleast_2d(rows))
    return "\n".join(lines) + "\n"
