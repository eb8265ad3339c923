"""FAQ entries and the generic hybrid similarity index (lexical + dense) with calibration."""
