"""Criteria: map a payer policy's criteria to dated facts in the chart (``evaluate``), from the policy library in
``criteria/`` (``library``), checked by ``lint``."""
