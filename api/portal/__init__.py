"""The web portal (门户): server-rendered pages for contractors, supervisors and owners, and each
site's public notice page. The pages call the same services as the API with the signed-in Actor;
they hold no SQL and no rules. The router is in api/portal/router.py."""
