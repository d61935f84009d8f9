"""Benchmarks, run on demand (never collected by pytest: testpaths is tests/).

- `make bench` (bench/micro.py): micro-benchmarks of the calendar and the catalogue search.
- `make bench-province` (bench/province.py): a throwaway PostgreSQL loaded with a province of a
  million dossiers by bench/generator.py, then HTTP scenarios with wrk against gunicorn
  (bench/http.py). Each figure is printed beside baselines measured in the same run.
"""
