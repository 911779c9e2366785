"""Web assets (Leaflet) inlined into map files; see README.md here for versions and licenses."""
