# Generated from sdk/parley/_async/__init__.py by scripts/unasync.py: edit that file.

