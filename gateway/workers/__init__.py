"""Workers: claim queued work, do it, record it. Each task kind in its own module."""
