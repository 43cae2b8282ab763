"""The CLI reference page (``docs/cli.md``), generated from the click commands themselves.

``python -m evprice.cli_reference > docs/cli.md`` writes it; ``tests/test_docs.py`` fails when
the committed page drifts from the commands.
"""

from __future__ import annotations

import click

from evprice.cli import main

WIDTH = 100
"""Help text width: fixed, so that the page does not depend on the terminal it was made in."""


def _walk(command: click.Command, name: str, parent: click.Context | None) -> list[click.Context]:
    """The context of ``command`` and of every subcommand under it (settings inherited, as when run)."""
    settings = {**command.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    ctx = click.Context(command, info_name=name, parent=parent, **settings)
    found = [ctx]
    if isinstance(command, click.Group):
        for sub in sorted(command.commands):
            found += _walk(command.commands[sub], sub, ctx)
    return found


def reference_markdown() -> str:
    """Every command's usage, description and options, as Markdown."""
    lines = [
        "# CLI reference",
        "",
        "Generated from the commands (`python -m evprice.cli_reference > docs/cli.md`). Every",
        "command takes `-h` / `--help`.",
        "",
    ]
    for ctx in _walk(main, "evprice", None):
        lines += [f"## `{ctx.command_path}`", "", "```text", ctx.command.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(reference_markdown())
