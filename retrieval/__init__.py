"""qabot's retrieval core: ingest, chunk, index and search Vietnamese news articles."""
