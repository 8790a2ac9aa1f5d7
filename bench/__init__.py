"""qa-bot benchmark: `python -m bench` regenerates bench/RESULTS.md and bench/results.png.

Measurements, not tests: indexing throughput, warm and cold latency, memory and retrieval quality
of qa-bot against the LangChain tutorial pipeline as distractor passages are added, an HTTP load
run against a real `qa-bot serve`, and a synthetic point for the vector store alone.
"""
