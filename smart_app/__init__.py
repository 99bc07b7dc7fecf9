"""p2p-brief: a SMART-on-FHIR app that prepares the physician for a prior-authorization peer-to-peer call."""

__version__ = "0.1.0"
