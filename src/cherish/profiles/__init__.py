"""The customer 360: one profile and one timeline per person, found by any identifier, order number or name."""
