"""``python -m drivers.sim``: serve the demo plant until Ctrl+C."""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from app.config import ConfigError
from drivers.sim.plant import DEMO_SIM, DemoPlant
from resources import DEMO_SITE


def main(argv: list[str] | None = None) -> int:
    """Start the plant, print where each device listens, wait for Ctrl+C; exit status."""
    parser = argparse.ArgumentParser(prog="python -m drivers.sim", description=__doc__)
    parser.add_argument("--site", default=str(DEMO_SITE), help="site file (default: the demo site)")
    parser.add_argument("--sim", default=str(DEMO_SIM), help="simulation parameters (default: demo.sim.yaml)")
    parser.add_argument("--base-port", type=int, default=None, help="move the devices' ports to start here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pymodbus").setLevel(logging.WARNING)
    try:
        plant = DemoPlant(args.site, args.sim, base_port=args.base_port)
        plant.start()
    except (ConfigError, ValueError, OSError) as exc:
        print(f"drivers.sim: {exc}", file=sys.stderr)
        return 1
    for device in plant.site.devices:
        print(f"{device.id:12s} {device.host}:{device.port}  {device.template}  {device.name}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        plant.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
