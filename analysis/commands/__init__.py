"""The command line (``python -m analysis``): argparse calling the domains' public functions."""
