"""Fake venues behind ccxt's own exchange classes, each backed by one paper engine.

``base`` explains the seam (ccxt's ``fetch``); one module per dialect: ``binance``,
``kraken``, ``coinbase``.
"""
