"""The demo nation's places: land, roads, parcels with owners and histories, public assets.

``generate_places(nation, seed=...)`` draws them from a simulated population; ``export`` writes them
as GeoJSON for QGIS; ``loading`` hands them to the registers that keep them.
"""

from gov21.demo.places.generate import PlacesError, generate_places
from gov21.demo.places.model import Places

__all__ = ["Places", "PlacesError", "generate_places"]
