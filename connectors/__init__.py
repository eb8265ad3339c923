"""Channel connectors: payload <-> Utterance/Reply, and their transport details."""
