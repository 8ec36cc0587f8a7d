"""Text analytics on every comment, offline and on the CPU: sentiment, aspects of the customer experience with
their own sentiment, urgency signals and language (`analyze`), and emerging topics among comments no aspect
explains (`topics`)."""
