"""The sections that pages are made of: each draws one part of a screen, top to bottom."""
