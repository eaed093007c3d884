"""The reader component: outputs the uploaded table named by its `name`/`namespace` parameters."""

from __future__ import annotations

from fate_grpc.components.context import ComponentContext

INPUT_KEY = "table"
OUTPUT_KEY = "output_data"


def run(ctx: ComponentContext) -> None:
    """Pass the table the node resolved from (namespace, name) through unchanged as `output_data`."""
    table = ctx.read_input_table(INPUT_KEY)
    ctx.log.info(
        "reader: table %s.%s has %d rows, %d columns",
        ctx.parameters.get("namespace", ""),
        ctx.parameters.get("name", ""),
        len(table),
        len(table.schema.header),
    )
    ctx.write_output_table(OUTPUT_KEY, table)
