"""Everything a researcher sees in a browser: the dashboard's pages, forms, URLs and the
progress JSON they poll.

It sits on top: it imports the domain apps (generation, audio, surveys) and worker, and no other
app imports it. Pages only wire those apps to the web; jobs.py says how a background job looks
on a page. Templates live under templates/dashboard/.
"""
