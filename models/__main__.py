"""``python -m models list`` and ``python -m models fetch NAME``."""

from __future__ import annotations

import argparse
import sys

from models.catalog import CATALOG
from models.fetch import FetchError, fetch, fetch_dir
from models.locate import find_file, model_dirs


def list_models() -> int:
    print("Model files are looked up in: " + ", ".join(str(d) for d in model_dirs()))
    for spec in CATALOG.values():
        print(f"\n{spec.name:<14} {spec.title} [{spec.task}, {spec.format}]")
        if spec.builtin:
            print("  available (built into an installed package, nothing to download)")
            continue
        for model_file in spec.files:
            path = find_file(model_file)
            status = f"found at {path}" if path else "MISSING"
            print(f"  {model_file.role:<10} {model_file.names[0]:<36} {status}")
        if any(find_file(f) is None for f in spec.files):
            print(f"  to get it: python -m models fetch {spec.name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="show each model and whether its files were found")
    fetch_parser = commands.add_parser(
        "fetch", help="download a model's files, verify them and install them"
    )
    fetch_parser.add_argument("name", help="catalog name: " + ", ".join(CATALOG))
    fetch_parser.add_argument(
        "--force", action="store_true", help="download even if the files are already present"
    )
    args = parser.parse_args(argv)

    if args.command == "list":
        return list_models()
    spec = CATALOG.get(args.name)
    if spec is None:
        print(
            f"error: unknown model {args.name!r}; known models: {', '.join(CATALOG)}",
            file=sys.stderr,
        )
        return 2
    if spec.builtin:
        print(f"{spec.name} is built into an installed package; nothing to download.")
        return 0
    try:
        paths = fetch(spec, force=args.force)
    except FetchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; nothing was installed.", file=sys.stderr)
        return 130
    for role, path in paths.items():
        print(f"{spec.name} {role}: {path}")
    print(f"{spec.name} is ready (downloads go to {fetch_dir()}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
