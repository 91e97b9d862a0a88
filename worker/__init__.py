"""The Celery app every worker machine runs: queues, routing, reliability settings; progress
reporting (progress), what the queues and live workers hold (status), torch's threads per
process, and the supervisor that runs the site with its workers for `manage.py demo`.

The bottom of the stack: it imports none of the project's apps (config only by name, through
DJANGO_SETTINGS_MODULE); every app may import it.
"""
