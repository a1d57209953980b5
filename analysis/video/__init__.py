"""Video: open a file once, detect and track on its frames, count, and export."""
