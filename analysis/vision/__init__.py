"""Pictures: decoding, detectors (catalog or your own), masks, poses, and drawing what they find."""
