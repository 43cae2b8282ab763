"""Write the built-in feeders that come from pandapower's networks as evprice feeder JSON.

    pip install -e ".[pandapower]"
    python scripts/make_feeder_data.py

Writes ``src/evprice/grid/data/cigre_mv.json``: the CIGRE medium-voltage benchmark network
(CIGRE Task Force C6.04.02, "Benchmark Systems for Network Integration of Renewable and
Distributed Energy Resources", 2014) as pandapower publishes it
(``pandapower.networks.create_cigre_network_mv(with_der="pv_wind")``: two 110/20 kV, 25 MVA
transformers feeding two 20 kV feeders, switches S1-S3 open, 18 loads of 44.7 MW and
8 PV and 1 wind generators of 1.71 MW in all), converted by
``evprice.grid.feeder_files.feeder_from_net``. ``tests/grid/test_feeder_files.py`` checks
that the shipped file equals a fresh conversion and agrees with ``pandapower.runpp``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandapower.networks as pn

from evprice.grid.feeder_files import feeder_from_net, feeder_to_dict

DATA = Path(__file__).resolve().parents[1] / "src" / "evprice" / "grid" / "data"
CIGRE_MV_STATION_BUSES = (11, 6, 10)
"""The three buses farthest from the substation (the default of a converted feeder)."""


def cigre_mv_net():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pn.create_cigre_network_mv(with_der="pv_wind")


def main() -> None:
    feeder = feeder_from_net(cigre_mv_net(), "cigre_mv", station_buses=CIGRE_MV_STATION_BUSES)
    path = DATA / "cigre_mv.json"
    path.write_text(json.dumps(feeder_to_dict(feeder), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} ({feeder.n_bus} buses, {feeder.n_line} lines)")


if __name__ == "__main__":
    main()
