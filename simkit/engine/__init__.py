"""The simpy models — the only package that imports simpy."""
