"""cherish: an open-source customer-experience engine that remembers every customer across every channel."""

__version__ = "0.1.0"
