"""`python -m bench` (`make bench`): the micro-benchmarks; the province run is `python -m bench.province`."""

from bench.micro import main

main()
