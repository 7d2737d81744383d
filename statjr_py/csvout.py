"""Tables as CSV text: the same bytes as pandas writes, in half the time.

``Results.save`` spent most of its time in ``DataFrame.to_csv`` formatting the
chains (``out`` tables of 5,000-15,000 draws; docs/performance.md).  pandas
turns each float column into text with numpy's ``astype(str)`` and then writes
rows through its csv writer; both cost more than Python's own ``float.__repr__``
and ``str.join``.  :func:`frame_csv` takes the fast route for the tables runs
make (columns of float64 and integers, a flat header) and hands anything else
to pandas unchanged.

The text is the same as ``frame.to_csv(index=False)``'s: ``repr`` gives the
shortest decimal that reads back as the same float64 (so every value
round-trips exactly), NaN is written as an empty field, and the header is
pandas' own, with its quoting.  ``tests/test_speed_paths.py`` holds the two
writers to the same bytes, and the values to an exact round trip, over random
bit patterns (subnormals, huge, negative zero, infinities).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["frame_csv"]


def _column_text(values: np.ndarray, na: str) -> list[str] | None:
    """One column as its CSV fields (``na`` for NaN), or None when pandas must format it."""
    kind = values.dtype.kind
    if kind == "f" and values.dtype.itemsize == 8:
        text = list(map(float.__repr__, values.tolist()))
        missing = np.flatnonzero(np.isnan(values))
        for i in missing.tolist():  # pandas' na_rep
            text[i] = na
        return text
    if kind in "iu":
        return list(map(int.__repr__, values.tolist()))
    return None  # float32 (numpy's shortest float32 text), bools, strings, dates, extension types


def frame_csv(frame: pd.DataFrame) -> str:
    """``frame.to_csv(index=False)``, the same text, faster for numeric tables.

    Parameters
    ----------
    frame : DataFrame
        Any table.  Columns of float64 and numpy integers take the fast route;
        a table with any other column, a MultiIndex header, or no rows or
        columns is written by pandas.

    Returns
    -------
    str
        The CSV text, lines ended as pandas ends them (``os.linesep``).
    """
    if (frame.shape[0] == 0 or frame.shape[1] == 0 or isinstance(frame.columns, pd.MultiIndex)
            or not all(isinstance(t, np.dtype) for t in frame.dtypes)):
        return frame.to_csv(index=False)
    columns = []
    for i in range(frame.shape[1]):
        # an empty field alone would be a blank line: the csv module quotes it, as here
        text = _column_text(frame.iloc[:, i].to_numpy(), '""' if frame.shape[1] == 1 else "")
        if text is None:
            return frame.to_csv(index=False)
        columns.append(text)
    header = frame.iloc[:0].to_csv(index=False)  # pandas' quoting of names, and its line end
    end = header[len(header.rstrip("\r\n")):]
    return header + end.join(map(",".join, zip(*columns))) + end
