"""Programme supervision: areas, annual programmes and batches, daily oversight, weekly bulletins,
monthly evaluation, credit lists and residents' satisfaction surveys."""
