"""Sample inputs: physical descriptions of a DNP sample (positions, concentrations) mapped to model parameters."""
