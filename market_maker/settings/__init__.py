"""The pieces behind :mod:`market_maker.config`: YAML with exact numbers, the pydantic models, secrets.

Import the public API from :mod:`market_maker.config`, not from here.
"""
