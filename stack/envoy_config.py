"""`python -m stack.envoy_config --out PATH`: render Envoy's config from this
environment's `PARLEY_*` settings (as `stack.envoy.render` does for `make up`) and write it to PATH.

A deployment's Envoy runs it first (the Helm chart's init container, writing into a volume the
Envoy container reads), so the edge follows the same settings as the services: upstreams by
`PARLEY_UPSTREAM_<PROCESS>` (DNS names of headless Services), mutual TLS by `PARLEY_MESH_TLS_*`.
The config names files of the repository (the descriptor set, the chat plugin widget) by their
absolute paths here: Envoy must run from the same image or checkout.
A deployment's Envoy takes connections from its Service: `PARLEY_HTTP_HOST=0.0.0.0` (its admin
port stays on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runtime import settings as settings_module
from stack import envoy


def main(argv: list[str]) -> int:
    """Render the config for the environment's settings into `--out`."""
    parser = argparse.ArgumentParser(prog="python -m stack.envoy_config", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="file to write the config to")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(envoy.render(settings_module.load()))
    print(f"envoy_config: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
