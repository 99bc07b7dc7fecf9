"""The practice's view across patients: the denial worklist on the clock (and, next, outcome rates and the sync)."""
