"""Statistics on a study's answers: rates judged human with intervals that respect repeated
measures, d', equivalence and Holm-corrected tests, ratings, power, objective music metrics,
plots and exports, and the `report` command.

Pure core, no Django: everything but dataset.py (reads a study's rows into plain tables) and the
command. The report pages and downloads under /reports/ are in the dashboard app.

May import: surveys (read only), and below it audio, generation and worker. Never the
dashboard.
"""
