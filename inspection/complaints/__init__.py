"""居民投诉与项目公示 — the public side of a site: its notice page and residents' complaints."""
