"""What consent is recorded for: the purposes and the channels a person can say yes or no to."""

PURPOSES = ("service", "feedback", "marketing")
CHANNELS = ("web", "app", "store", "phone", "email", "chat", "social", "sms", "any")
