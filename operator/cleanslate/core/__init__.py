"""The functional core: every decision cleanslate makes, as pure code over typed values.

Nothing in this package performs I/O, reads a clock, draws random numbers or imports kopf,
httpx, asyncio, time or random (a test enforces it). Time is an argument. Functions return
frozen values that describe what to do; the shell does it.
"""
