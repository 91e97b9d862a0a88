"""Statistics on a study's answers: rates judged human with intervals that respect repeated
measures, d' (read on the true-d' scale), equivalence and Holm-corrected tests, ratings, power,
the error rates of the verdicts on simulated studies (calibration.py), objective music metrics,
plots and exports, and the `report` command.

Pure core, no Django: everything but dataset.py (reads a study's rows into plain tables) and the
command. The report pages and downloads under /reports/ are in the dashboard app.

May import: surveys (read only), and below it audio, generation and worker. Never the
dashboard.
"""
