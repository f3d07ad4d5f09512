"""Drivers play shifts against a target and record the history: the simulator (`sim`) on a
virtual clock, live mode (`live/`) over HTTP with Locust. They share the report stream
(`arrivals`), the move layer (`moves`), the fault schedule (`nemesis`), the protocol of what
they may ask of a target (`target`) and its HTTP client (`client`)."""
