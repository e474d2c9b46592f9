"""Exchange adapters behind one port: the paper exchange (the embedded default) and live ones."""
