"""qabot's engine: ingest, chunk, index and search Vietnamese news articles, evaluate and
benchmark that. It knows no chat app and prints nothing: front ends (``bot``) call it.

Entry points: ``indexer.index_corpus`` / ``build_index`` to index, ``indexer.open_searcher`` to
get a ``search.Searcher`` whose ``search(question)`` returns an ``Answer`` of cited ``Hit``s.
"""
