"""Real geography from the ``cpca`` package's adcode table (never typed-in coordinates)."""

from app.geo.gazetteer import Gazetteer, GazetteerError, Place, gazetteer, region_of_province

__all__ = ["Gazetteer", "GazetteerError", "Place", "gazetteer", "region_of_province"]
