"""Reports of a run: one model (``model.RunReport``), one renderer per format."""
