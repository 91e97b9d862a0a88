"""Everything a researcher sees in a browser: the dashboard's pages, forms, URLs, the progress
JSON they poll, and the study reports and downloads; and `manage.py demo`, which sets a whole
experiment up and serves it to be looked at here.

It sits on top: it imports the domain apps (evaluation, surveys, audio, generation) and worker,
and no other app imports it. Pages only wire those apps to the web; jobs.py says how a
background job looks on a page; charts.py draws learning curves and piano rolls as SVG (no
Django); templatetags/ formats the report's numbers. Templates live under templates/dashboard/.
"""
