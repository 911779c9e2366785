"""The geoterr sample data, installed as ``geoterr.sample_data`` (see README.md here)."""
