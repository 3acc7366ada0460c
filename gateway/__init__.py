"""lienthong gateway: the journey of an official document from submission to signed receipt."""

__version__ = "0.1.0"
