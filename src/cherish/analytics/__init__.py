"""Measuring the relationship: metrics defined once (Ibis), lifetime-value models, stages and health."""
