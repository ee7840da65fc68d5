"""Reports: readable tables for the terminal, the negotiation brief and the service review pack."""
