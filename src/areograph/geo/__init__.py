"""Geometry of both planets: CRS facts (crs), Haversine planning and AEQD region grids (grid),
reprojection of a region once and cutting it into square tiles with a GeoJSON index (tiling)."""
