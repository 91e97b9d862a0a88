"""The researcher dashboard under /dashboard/: one module per kind of page, all login-protected."""
