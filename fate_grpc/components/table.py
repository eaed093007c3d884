"""Tables as components see them: a pandas DataFrame plus FATE's column roles (match id, label, weight)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class TableSchema:
    """Column roles of a table. `header` lists every column in file order, the id column included."""

    header: tuple[str, ...]
    match_id_name: str
    label_name: str = ""
    weight_name: str = ""
    delimiter: str = ","

    @property
    def feature_names(self) -> tuple[str, ...]:
        special = {self.match_id_name, self.label_name, self.weight_name}
        return tuple(c for c in self.header if c not in special)


@dataclass(frozen=True)
class Table:
    """A table in memory. The match id column is kept as strings (ids are never parsed as numbers)."""

    frame: pd.DataFrame
    schema: TableSchema

    @property
    def ids(self) -> pd.Series:
        return self.frame[self.schema.match_id_name]

    def __len__(self) -> int:
        return len(self.frame)

    def take(self, positions: object) -> Table:
        """Rows at the given integer positions, in that order, same schema."""
        return replace(self, frame=self.frame.iloc[positions].reset_index(drop=True))  # type: ignore[call-overload]


def read_table(path: str | Path, schema: TableSchema) -> Table:
    """Read a stored table file (CSV with a header line, as the node writes it)."""
    frame = pd.read_csv(
        path,
        sep=schema.delimiter,
        dtype={schema.match_id_name: str},
        keep_default_na=False,
        na_values=[""],
    )
    missing = [c for c in schema.header if c not in frame.columns]
    if missing:
        raise ValueError(f"table file {Path(path).name} lacks columns {missing}")
    return Table(frame=frame[list(schema.header)], schema=schema)


def write_table(table: Table, path: str | Path) -> None:
    """Write a table as CSV with a header line, columns in schema order."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    table.frame.to_csv(path, sep=table.schema.delimiter, index=False, columns=list(table.schema.header))
