"""Road networks, congestion laws and shortest-path travel times.

* :mod:`~evprice.transport.network`: :class:`RoadNetwork` (directed arcs, read-only
  arrays), the CSV edge-table readers and the shipped networks ``"doc2"`` (document 2's
  13-node road graph, road classes and the speed law) and ``"sioux_falls"`` (TNTP, BPR).
* :mod:`~evprice.transport.congestion`: document 2's speed law per road class, the BPR
  law, document 2's saturation table (and by hour of day), and arc times under a congestion.
* :mod:`~evprice.transport.paths`: Dijkstra shortest times and routes, and
  :class:`TravelTimes`, which caches the times to fixed targets on the congestion.

Nodes carry their source's **1-based labels** (``node_labels``); every function takes and
returns **0-based indices** into them, except :func:`route`, which answers in labels.
Times are hours throughout (``*_h``). See ``docs/transport.md``.
"""

from evprice.transport.congestion import (
    DOC2_FREE_FLOW_SPEED_KMH,
    ROAD_CLASSES,
    arc_times_h,
    bpr_time_h,
    doc2_congestion_table,
    doc2_saturation_by_hour,
    doc2_speed_kmh,
)
from evprice.transport.network import NETWORKS, RoadNetwork, load_network, read_edge_table
from evprice.transport.paths import NO_PREDECESSOR, TravelTimes, route, shortest_paths, shortest_times_h

__all__ = [
    "DOC2_FREE_FLOW_SPEED_KMH",
    "NETWORKS",
    "NO_PREDECESSOR",
    "ROAD_CLASSES",
    "RoadNetwork",
    "TravelTimes",
    "arc_times_h",
    "bpr_time_h",
    "doc2_congestion_table",
    "doc2_saturation_by_hour",
    "doc2_speed_kmh",
    "load_network",
    "read_edge_table",
    "route",
    "shortest_paths",
    "shortest_times_h",
]
