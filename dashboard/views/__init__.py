"""The researcher pages under /dashboard/ and /reports/: one module per kind of page, all
login-protected."""
